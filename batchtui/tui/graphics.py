"""How pictures are drawn in this terminal: Kitty's graphics protocol, sixels, or half-cell
blocks (which every true-colour terminal shows: over SSH, in tmux, in `batchtui web`).

textual-image draws all three. It asks the terminal what it can do, but only as it is first
imported, one question at a time with a 0.1 s wait each (0.2 s of every start in a terminal
that answers neither) and never once Textual reads the keyboard. So the question is asked here,
once, before the app starts, in one round trip: the graphics query and a Device Attributes
request (DA1) together. Every terminal answers DA1, so its answer ends the wait; a Kitty
graphics answer before it means Kitty's protocol, a 4 among DA1's attributes means sixels.
textual-image is then imported with its own questions skipped, and told the answer.

`BATCHTUI_GRAPHICS=kitty|sixel|halfcell` chooses instead (a terminal that answers wrongly, a
test). Read when the UI starts.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import select
import sys
import time
from typing import Any, Literal

Graphics = Literal["kitty", "sixel", "halfcell"]
GRAPHICS: tuple[Graphics, ...] = ("kitty", "sixel", "halfcell")
ENV = "BATCHTUI_GRAPHICS"

_QUERY = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\" + "\x1b[c"
_KITTY_OK = re.compile(rb"\x1b_Gi=31;OK")
_DA1 = re.compile(rb"\x1b\[\?([0-9;]*)c")
_WAIT = 0.3
"""The longest wait for the DA1 answer (a terminal answers in milliseconds; a slow link)."""

_chosen: Graphics | None = None


def from_answer(answer: bytes) -> Graphics:
    """What a terminal's answer to `_QUERY` says it can draw."""
    if _KITTY_OK.search(answer):
        return "kitty"
    da1 = _DA1.search(answer)
    if da1 is not None and "4" in da1.group(1).decode().split(";"):
        return "sixel"
    return "halfcell"


def ask_terminal(fd_in: int, fd_out: int, wait: float = _WAIT) -> Graphics:
    """Ask the terminal on (fd_in, fd_out) in one round trip; halfcell when it does not say.

    Keys come first: with keys already typed (a person quick off the mark, a script) nothing
    is asked, since the answer would be read along with them. Whatever else arrives with
    the answer is handed back to the terminal's input (TIOCSTI, where the kernel allows it)."""
    import termios
    import tty

    try:
        saved = termios.tcgetattr(fd_in)
    except termios.error:
        return "halfcell"
    answer = b""
    try:
        tty.setcbreak(fd_in, termios.TCSANOW)
        if select.select([fd_in], [], [], 0)[0]:  # keys typed already: theirs, not ours
            return "halfcell"
        os.write(fd_out, _QUERY.encode())
        deadline = time.monotonic() + wait
        while not _DA1.search(answer):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd_in], [], [], left)[0]:
                break
            chunk = os.read(fd_in, 1024)
            if not chunk:
                break
            answer += chunk
    except OSError:
        return "halfcell"
    finally:
        termios.tcsetattr(fd_in, termios.TCSADRAIN, saved)
    _give_back(fd_in, _ANSWERS.sub(b"", answer))
    return from_answer(answer)


_ANSWERS = re.compile(rb"\x1b_G[^\x1b]*\x1b\\|\x1b\[\?[0-9;]*c")


def _give_back(fd: int, typed: bytes) -> None:
    """Put keys read along with the answer back in the terminal's input (lost where the
    kernel refuses TIOCSTI: keys typed within the few milliseconds of the round trip)."""
    if not typed:
        return
    import fcntl
    import termios

    with contextlib.suppress(OSError):
        for byte in typed:
            fcntl.ioctl(fd, termios.TIOCSTI, bytes([byte]))


def choose() -> Graphics:
    """Decide, once per process, before Textual starts: the variable, else the terminal's
    answer (half cells when there is no terminal to ask: `batchtui web`, a pipe)."""
    global _chosen
    if _chosen is not None:
        return _chosen
    wanted = os.environ.get(ENV, "").strip().lower()
    if wanted in GRAPHICS:
        _chosen = wanted
    elif sys.stdin.isatty() and sys.stdout.isatty():
        _chosen = ask_terminal(sys.stdin.fileno(), sys.stdout.fileno())
    else:
        _chosen = "halfcell"
    return _chosen


def _load_textual_image() -> None:
    """Import textual-image without its own questions to the terminal (it asks when its
    standard output is a terminal, which would race Textual for the answer once the app
    runs): the answer is ours already. Safe at any time: nothing is written meanwhile."""
    if "textual_image.widget" in sys.modules:
        return
    real = sys.__stdout__
    sys.__stdout__ = io.StringIO()  # type: ignore[misc,assignment]  # (no terminal: no questions)
    try:
        import textual_image.widget  # noqa: F401
    finally:
        sys.__stdout__ = real  # type: ignore[misc]
    from textual_image import _terminal

    _terminal.get_cell_size._result = _cell_size()  # type: ignore[attr-defined]


def _cell_size() -> Any:
    """A cell's size in pixels, from the terminal's window size where it says (10x20 else):
    what sixel and Kitty pictures are scaled by."""
    from textual_image._terminal import CellSize

    with contextlib.suppress(OSError, ValueError, ZeroDivisionError):
        import fcntl
        import struct
        import termios

        packed = fcntl.ioctl(sys.stdout.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
        rows, cols, width, height = struct.unpack("HHHH", packed)
        if width and height:
            return CellSize(width // cols, height // rows)
    return CellSize(10, 20)


def picture_class() -> Any:
    """The textual-image widget class for this terminal (`choose` first, before the app)."""
    graphics = choose()
    _load_textual_image()  # on first use: not on the way to the first frame (13 ms)
    from textual_image import widget

    if graphics == "kitty":
        return widget.TGPImage
    if graphics == "sixel":
        return widget.SixelImage
    return widget.HalfcellImage
