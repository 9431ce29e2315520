"""Children started off the event loop (libc's posix_spawn through ctypes, from a thread) are
set up exactly like those `os.posix_spawn` started: a session of their own, SIGPIPE back to
its default, no signal blocked, stdin from /dev/null, the environment given, and a failure
to start raised as the errno's own OSError."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from batchtui.engine import spawn_off_loop

pytestmark = pytest.mark.skipif(not spawn_off_loop.available(), reason="glibc on Linux only")

# Read by a shell from the kernel (a Python child would ignore SIGPIPE itself), with builtins
# only: a shell waiting for a command it started blocks every signal meanwhile.
REPORT = (
    'while read -r key value; do case "$key" in SigIgn:|SigBlk:) echo "$value";; esac; '
    'done < /proc/$$/status; read -r _ _ _ _ _ sid _ < /proc/$$/stat; echo "$sid $$"; '
    'echo "$ONLY"; readlink /proc/$$/fd/0; echo oops >&2'
)


def run(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        pid = spawn_off_loop.spawn(
            argv[0], argv, env, out_write, err_write, (signal.SIGPIPE, signal.SIGXFSZ)
        )
    finally:
        os.close(out_write)
        os.close(err_write)
    with os.fdopen(out_read) as out, os.fdopen(err_read) as err:
        printed, complained = out.read(), err.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), printed, complained


def test_a_child_gets_its_own_session_default_signals_and_dev_null():
    code, printed, complained = run(["/bin/sh", "-c", REPORT], {"ONLY": "this"})
    assert code == 0, complained
    masked, ignored, session, only, stdin = printed.splitlines()  # SigBlk comes first
    assert not int(ignored, 16) & 1 << (signal.SIGPIPE - 1)
    assert int(masked, 16) == 0
    assert stdin == "/dev/null"
    sid, pid = session.split()
    assert sid == pid, "the child leads its own session"
    assert only == "this"
    assert complained == "oops\n"


def test_failures_to_start_are_the_errnos_own_errors(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        run([str(tmp_path / "missing")], {})
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(PermissionError):
        run([str(script)], {})
