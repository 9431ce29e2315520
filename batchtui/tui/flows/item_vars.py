"""Item flow: edit one item's variables and key in the vars dialog, saved through the
service (all or nothing; a refusal is said in the dialog, the text kept)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...core.errors import BatchtuiError, ValidationError
from ...core.models import BatchItem

if TYPE_CHECKING:
    from ..app import BatchtuiApp


def edit_vars(bt: BatchtuiApp, batch_id: str, item: BatchItem, saved: Callable[[], None]) -> None:
    """Open the vars dialog for `item`; it saves with `service.edit_item`, then `saved`."""
    from ..screens.vars_dialog import VarsDialog

    def save(values: dict[str, str], unset: list[str], key: str | None) -> str | None:
        try:
            bt.service.edit_item(batch_id, item.id, None, values, unset, key=key)
        except ValidationError as exc:
            return "; ".join(exc.problems) or exc.message
        except BatchtuiError as exc:
            return str(exc)
        return None

    def done(answer: bool | None) -> None:
        if answer:
            saved()
            bt.notify(f"saved item {item.label}'s variables and key", timeout=2, markup=False)

    bt.push_screen(VarsDialog(item.label, item.vars, item.key, save), done)
