"""The overall bar of a run, in segments: what succeeded, what ended otherwise, what is in
flight. Every ended item counts as done, so the bar never runs backwards as items fail; the
segments' shapes (and colours, when there are colours) tell success from failure."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from rich.text import Text
from textual.widget import Widget

from ...core.states import ItemStatus
from ..palette import NOTE, STYLES

if TYPE_CHECKING:
    from ...core.run import Progress

OK_CELL, FAILED_CELL, FLIGHT_CELL, TODO_CELL = "█", "▚", "▒", "─"
"""Each segment's shape: under NO_COLOR the shape alone tells them apart."""


class Parts(NamedTuple):
    """The bar's segments, as shares of the items (0 to 1, summing to at most 1)."""

    succeeded: float
    ended_otherwise: float
    in_flight: float

    @property
    def done(self) -> float:
        """The share the bar fills."""
        return self.succeeded + self.ended_otherwise + self.in_flight


def parts(progress: Progress, floor: float = 0.0) -> Parts:
    """The segments of `progress`; `floor`, the share this run's bar reached already: a retry
    that sends a running item back to waiting never empties what was drawn (the in-flight
    segment keeps the difference)."""
    total = progress.total
    if not total:
        return Parts(0.0, 0.0, 0.0)
    ok = progress.succeeded / total
    other = (progress.finished - progress.succeeded) / total
    flight = min(1.0 - ok - other, max(progress.running_work / total, floor - ok - other))
    return Parts(ok, other, max(0.0, flight))


def render_bar(shares: Parts, width: int) -> Text:
    """`shares` drawn in `width` cells, then the percent done."""
    label = f" {round(100 * shares.done):3d}%"
    cells = max(0, width - len(label))
    ok = round(shares.succeeded * cells)
    other = round((shares.succeeded + shares.ended_otherwise) * cells) - ok
    flight = max(0, round(shares.done * cells) - ok - other)
    todo = max(0, cells - ok - other - flight)
    return Text.assemble(
        (OK_CELL * ok, STYLES[ItemStatus.SUCCEEDED]),
        (FAILED_CELL * other, STYLES[ItemStatus.FAILED]),
        (FLIGHT_CELL * flight, STYLES[ItemStatus.RUNNING]),
        (TODO_CELL * todo, STYLES[NOTE]),
        label,
    )


class RunBar(Widget):
    """The overall bar; `show` it a run's progress."""

    DEFAULT_CSS = """
    RunBar { height: 1; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shares = Parts(0.0, 0.0, 0.0)
        self._run: object = None
        self._reached = 0.0

    def show(self, progress: Progress, run: object) -> None:
        """Draw `progress` of the run `run` names (its start time): within one run the bar
        only grows."""
        if run != self._run:
            self._run, self._reached = run, 0.0
        self.shares = parts(progress, self._reached)
        self._reached = max(self._reached, self.shares.done)
        self.refresh()

    def render(self) -> Text:
        return render_bar(self.shares, self.size.width)
