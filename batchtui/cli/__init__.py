"""`batchtui` on the command line: every batch operation as a verb, `--json` on every read.

`main` loads on first use: the UI's start-up imports `cli.reporting` alone.
"""

from __future__ import annotations

from typing import Any

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    if name == "main":
        from .main import main

        return main
    raise AttributeError(name)
