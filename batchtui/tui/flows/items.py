"""Item flows: import items from a text file (the one reader of item lines, `core.item_lines`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.app import App

from ...core.errors import ValidationError
from ...core.item_lines import read_item_lines


def import_items(app: App[object], add: Callable[[list[str], str], None]) -> None:
    """Ask for a text file's path, read its items, and hand them to `add` (with the file's
    name, to say where they came from); a file that cannot be read is said in one line."""
    from ..screens.dialogs import PromptScreen

    def chosen(path: str | None) -> None:
        if not path:
            return
        try:
            contents = read_item_lines(str(Path(path).expanduser()))
        except ValidationError as exc:
            app.notify(str(exc), severity="error", markup=False)
            return
        add(contents, Path(path).name)

    app.push_screen(
        PromptScreen(
            "Import items from a text file",
            placeholder="path/to/topics.txt",
            hint="One item per line; blank lines are skipped.",
        ),
        chosen,
    )
