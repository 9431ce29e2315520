"""The batch list's orders and filter, and a batch's row, as pure functions (no app)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from batchtui.core.states import BatchStatus
from batchtui.core.summary import BatchSummary
from batchtui.tui import list_display

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def summary(name: str, status: BatchStatus, minute: int, changed: int | None = None):
    return BatchSummary(
        id=name.lower(),
        name=name,
        status=status,
        platform="tiktok",
        total=4,
        succeeded=1,
        percent=25.0,
        created_at=T0 + timedelta(minutes=minute),
        updated_at=None if changed is None else T0 + timedelta(minutes=changed),
    )


BATCHES = [
    summary("beta", BatchStatus.COMPLETE, 1, changed=9),
    summary("Alpha", BatchStatus.DRAFT, 2),
    summary("gamma", BatchStatus.PROCESSING, 3, changed=5),
    summary("delta", BatchStatus.FAILED, 4),
]


def names(batches: list[BatchSummary]) -> list[str]:
    return [b.name for b in batches]


def test_each_order_the_list_cycles_through():
    orders = {sort: names(list_display.visible(BATCHES, sort, "")) for sort in list_display.SORTS}
    assert orders == {
        "created": ["beta", "Alpha", "gamma", "delta"],
        "newest": ["delta", "gamma", "Alpha", "beta"],
        "name": ["Alpha", "beta", "delta", "gamma"],
        "status": ["gamma", "delta", "Alpha", "beta"],  # running, then what needs a look
        "last change": ["beta", "gamma", "delta", "Alpha"],  # never changed: its creation
    }


def test_the_filter_matches_a_name_or_a_status_in_any_case():
    assert names(list_display.visible(BATCHES, "created", "ALP")) == ["Alpha"]
    assert names(list_display.visible(BATCHES, "created", "fail")) == ["delta"]
    assert list_display.visible(BATCHES, "created", "nothing like it") == []


def test_a_row_fills_every_column_with_inert_text():
    row = list_display.batch_row(
        summary("[bold]x[/bold]", BatchStatus.DRAFT, 0), T0 + timedelta(hours=1)
    )
    assert len(row) == len(list_display.COLUMNS)
    assert row[0].plain == "[bold]x[/bold]"  # shown as typed, never as markup
    assert (row[2].plain, row[4].plain) == ("1/4", "TikTok")


def test_a_reviewed_batch_shows_its_review_where_the_finished_bar_was():
    done = summary("Cards", BatchStatus.COMPLETE, 0)._replace(review=(7, 2, 1))
    cell = list_display.batch_row(done, T0)[3]
    assert cell.plain == "✔7 ✘2 ?1"
    running = done._replace(status=BatchStatus.PROCESSING)  # mid-run: the bar stays
    assert "✔" not in list_display.batch_row(running, T0)[3].plain
    never = summary("Plain", BatchStatus.COMPLETE, 0)  # never reviewed: the bar
    assert "✔" not in list_display.batch_row(never, T0)[3].plain
