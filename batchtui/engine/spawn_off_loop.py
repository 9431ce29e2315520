"""Starting a child without stopping the event loop: libc's posix_spawn, called through ctypes
(which lets go of the GIL) from a worker thread.

posix_spawn starts the child with vfork: the caller waits until the child has exec'd, and
`os.posix_spawn` holds the GIL all that time, so every item's start stopped the whole runner
(0.6 ms an item on a quiet machine; under load, 3.3 s of a 5.1 s 1,000-item run, measured
with pyinstrument). Called here, only the worker thread waits; the loop goes on with the other
items. The child is set up exactly as `local_spawn._spawn` sets it up: a new session, SIGPIPE
and SIGXFSZ back to their defaults, the calling thread's signal mask (a worker thread's is the
main thread's; an explicit mask would leave glibc's own two signals blocked across exec),
stdin from /dev/null, stdout and stderr into the given pipes.

Linux with glibc only (the flag values below are glibc's); elsewhere `available()` is False
and the caller spawns on the loop as before.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from collections.abc import Iterable, Mapping

# glibc's <spawn.h>
_SETSIGDEF = 0x04
_SETSID = 0x80
_OPAQUE = 1024
"""Bytes for posix_spawn_file_actions_t, posix_spawnattr_t and sigset_t (glibc x86-64: 80,
336 and 128): they are opaque, so room to spare."""


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.gnu_get_libc_version  # noqa: B018  (glibc, whose flag values these are)
    except (OSError, AttributeError):
        return None
    buf, num = ctypes.c_void_p, ctypes.c_int
    char_pp = ctypes.POINTER(ctypes.c_char_p)
    libc.posix_spawn_file_actions_init.argtypes = [buf]
    libc.posix_spawn_file_actions_destroy.argtypes = [buf]
    libc.posix_spawn_file_actions_addopen.argtypes = [buf, num, ctypes.c_char_p, num, num]
    libc.posix_spawn_file_actions_adddup2.argtypes = [buf, num, num]
    libc.posix_spawnattr_init.argtypes = [buf]
    libc.posix_spawnattr_destroy.argtypes = [buf]
    libc.posix_spawnattr_setflags.argtypes = [buf, ctypes.c_short]
    libc.posix_spawnattr_setsigdefault.argtypes = [buf, buf]
    libc.sigemptyset.argtypes = [buf]
    libc.sigaddset.argtypes = [buf, num]
    libc.posix_spawn.argtypes = [ctypes.POINTER(num), ctypes.c_char_p, buf, buf, char_pp, char_pp]
    return libc


def available() -> bool:
    """Whether children can be started here without holding the GIL."""
    return _libc() is not None


def _strings(values: Iterable[bytes]) -> ctypes.Array[ctypes.c_char_p]:
    items = list(values)
    return (ctypes.c_char_p * (len(items) + 1))(*items, None)


def spawn(
    program: str,
    argv: list[str],
    env: Mapping[str, str],
    stdout: int,
    stderr: int,
    default_signals: Iterable[int],
) -> int:
    """Start `program` with `argv` and `env` in a new session (see the module's docstring);
    its pid. OSError (FileNotFoundError, PermissionError, …) if it could not be started.
    Blocks until the child has exec'd, without the GIL: call it from a worker thread."""
    libc = _libc()
    assert libc is not None, "check available() first"
    actions = ctypes.create_string_buffer(_OPAQUE)
    attr = ctypes.create_string_buffer(_OPAQUE)
    defaults = ctypes.create_string_buffer(_OPAQUE)
    libc.posix_spawn_file_actions_init(actions)
    libc.posix_spawnattr_init(attr)
    try:
        libc.posix_spawn_file_actions_addopen(actions, 0, os.devnull.encode(), os.O_RDONLY, 0)
        libc.posix_spawn_file_actions_adddup2(actions, stdout, 1)
        libc.posix_spawn_file_actions_adddup2(actions, stderr, 2)
        libc.sigemptyset(defaults)
        for signum in default_signals:
            libc.sigaddset(defaults, int(signum))
        libc.posix_spawnattr_setsigdefault(attr, defaults)
        libc.posix_spawnattr_setflags(attr, _SETSID | _SETSIGDEF)
        cargv = _strings(os.fsencode(arg) for arg in argv)
        cenv = _strings(os.fsencode(f"{key}={value}") for key, value in env.items())
        pid = ctypes.c_int(0)
        error = libc.posix_spawn(
            ctypes.byref(pid), os.fsencode(program), actions, attr, cargv, cenv
        )
    finally:
        libc.posix_spawn_file_actions_destroy(actions)
        libc.posix_spawnattr_destroy(attr)
    if error:
        raise OSError(error, os.strerror(error), program)  # the errno's own subclass
    return pid.value
