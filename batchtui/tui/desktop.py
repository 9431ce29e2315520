"""Desktop integration: a path onto the clipboard (OSC 52), a folder in the file manager."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from textual.app import App

from ..core.children import OWN
from ..core.textsafe import one_line


def copy_path(app: App[object], path: str, what: str) -> None:
    """Put a path on the clipboard with OSC 52 (it reaches the clipboard of the machine
    the terminal runs on, over SSH too, where the terminal allows it)."""
    app.copy_to_clipboard(path)
    app.notify(f"copied the {what} path: {one_line(path, 60)}", markup=False)


def open_folder(app: App[object], folder: str) -> None:
    """Open a folder in the desktop's file manager; without a desktop (SSH), copy its
    path instead and say so."""
    opener = desktop_opener()
    if opener is None:
        copy_path(app, folder, "folder")
        app.notify("no desktop to open it on here (SSH?): its path is on the clipboard")
        return
    try:
        opened = subprocess.Popen(  # never through a shell; its own session outlives us
            [opener, folder],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        app.notify(f"could not open {folder}: {exc.strerror or exc}", severity="error")
        return
    OWN.keep(opened)  # collected once it has ended: a long TUI session leaves no zombies
    app.notify(f"opened {one_line(folder, 60)}", markup=False)


def desktop_opener() -> str | None:
    """The program that opens a folder on this machine's desktop, if it has one."""
    if sys.platform == "darwin":
        return shutil.which("open")
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return shutil.which("xdg-open")
    return None
