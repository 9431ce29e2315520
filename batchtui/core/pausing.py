"""Pausing a run: the modes, and the one rule every view uses to say a batch is paused.

A pause is asked for on a batch (`Batch.paused`, stored: `batchtui pause ID`) or for the
whole host (a flag file beside the slots: `batchtui pause --all`). The runner obeys both,
writes back what it obeys now (`Batch.holding`) and the host's pause as it read it
(`Batch.host_paused`). A view shows the stronger of the batch's and the host's: a request
shows at once, and a resume too (never a stale "paused" while the runner catches up).

- "drain": no new item starts (no slot is asked for); running items finish.
- "now": drain, and the running items' process groups are frozen (SIGSTOP; SIGCONT on
  resume). Time frozen does not count against an item's timeout.
"""

from __future__ import annotations

from typing import Literal

from .states import BatchStatus

PauseMode = Literal["drain", "now"]
PAUSE_MODES: tuple[PauseMode, ...] = ("drain", "now")

PAUSE_WORDS: dict[str, str] = {"drain": "PAUSED", "now": "PAUSED (frozen)"}
"""How each mode reads in every view (a word, not a colour)."""
PAUSE_SHORT: dict[str, str] = {"drain": "PAUSED", "now": "FROZEN"}
"""The same in a narrow cell (the list's status column), in place of PROCESSING."""
PAUSE_ICON = "⏸"


def mode_of(value: object) -> PauseMode | None:
    """A stored mode, or None for anything else (a hand-edited file cannot pause a run)."""
    return "now" if value == "now" else "drain" if value == "drain" else None


def stronger(*modes: PauseMode | None) -> PauseMode | None:
    """The strongest of several modes: "now" over "drain" over none."""
    return "now" if "now" in modes else "drain" if "drain" in modes else None


def pause_mode(status: BatchStatus | str, paused: object, host_paused: object) -> PauseMode | None:
    """The pause a batch is under, as every view shows it: its own request (kept on an ended
    batch too: a retry starts paused) and, while it runs, the host's as its runner read it."""
    own = mode_of(paused)
    if status != BatchStatus.PROCESSING and status != BatchStatus.PROCESSING.value:
        return own
    return stronger(own, mode_of(host_paused))


def pause_word(mode: PauseMode | None) -> str:
    """'PAUSED', 'PAUSED (frozen)', or '' when not paused."""
    return PAUSE_WORDS[mode] if mode is not None else ""


def pause_mark(mode: PauseMode | None) -> str:
    """What follows a batch's status wherever it is shown: ' ⏸ PAUSED' (or '')."""
    return f" {PAUSE_ICON} {PAUSE_WORDS[mode]}" if mode is not None else ""


def pause_meaning(mode: PauseMode | None) -> str:
    """What the pause means for the items, in a few words ('' when not paused)."""
    if mode is None:
        return ""
    if mode == "now":
        return "no new item starts; running ones are frozen"
    return "no new item starts; running ones finish"
