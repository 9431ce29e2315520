"""Running the `on_end` hook: the user's command as argv (never a shell), the event's JSON on
its stdin, killed with its whole process group at its time limit."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess

from ...core.textsafe import inert
from ...generators.command import render_argv, split_template
from .events import hook_values
from .outbox import Delivery
from .outcome import Outcome

OUTPUT_LIMIT = 64 * 1024
"""What of a hook's output reaches the log (its end is the part that says why)."""
GRACE = 2.0
"""Seconds between SIGTERM and SIGKILL at the time limit."""


def run(delivery: Delivery) -> tuple[Outcome, str]:
    """Run the hook once; how it went and what it printed (the end of it)."""
    try:
        argv = render_argv(split_template(delivery.target), hook_values(delivery.body))
    except ValueError as exc:
        return Outcome(False, f"on_end: {exc}", True), ""
    stdin = json.dumps(delivery.body, ensure_ascii=False).encode()
    cwd = delivery.cwd if delivery.cwd and os.path.isdir(delivery.cwd) else None
    try:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the time limit kills all it started
            close_fds=True,
            cwd=cwd,
        )
    except OSError as exc:
        return Outcome(False, f"on_end could not start {argv[0]!r}: {exc.strerror}", True), ""
    timeout = delivery.timeout or 60.0
    try:
        output, _ = child.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        try:  # what it printed before; a descendant that left its group may hold the pipe
            output, _ = child.communicate(timeout=GRACE)
        except subprocess.TimeoutExpired:
            output = b""
        said = f"on_end killed after {timeout:g} s (its time limit, hook_timeout)"
        return Outcome(False, said, True), _text(output)
    code = child.returncode
    if code == 0:
        return Outcome(True, "on_end exit 0"), _text(output)
    how = f"signal {-code}" if code < 0 else f"exit {code}"
    return Outcome(False, f"on_end {how}", True), _text(output)


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the hook's group, SIGKILL to what is left of it after `GRACE`."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(GRACE)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def _text(output: bytes | None) -> str:
    text = (output or b"")[-OUTPUT_LIMIT:].decode("utf-8", "replace")
    return inert(text, keep_newlines=True)
