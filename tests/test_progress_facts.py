"""The progress facts the progress screen's words come from: no pace until an item of this run
ended (an item waiting to retry has not), the canary while it runs alone, the work in flight;
and the overall bar's segments, which never shrink within a run."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

from batchtui.core.models import Batch, BatchConfig, BatchItem, BatchStatus, ItemStatus
from batchtui.core.run import progress
from batchtui.tui.widgets.log_wrap import wrap_line
from batchtui.tui.widgets.run_bar import parts, render_bar

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def running(items: list[BatchItem], **config: object) -> Batch:
    return Batch(
        id="b1",
        name="Facts",
        status=BatchStatus.PROCESSING,
        config=BatchConfig(**config),
        items=items,
        started_at=T0,
    )


def waiting_to_retry(position: int) -> BatchItem:
    return BatchItem(
        id=f"i{position}",
        position=position,
        content="x",
        attempts=1,
        started_at=at(1),
        finished_at=at(5),
        error="exit 3",
        retry_at=at(60),
        retries_used=1,
        waiting="retry 1/3 at 12:01:00",
    )


def succeeded_before_this_run(position: int) -> BatchItem:
    return BatchItem(
        id=f"i{position}",
        position=position,
        content="y",
        status=ItemStatus.SUCCEEDED,
        attempts=1,
        started_at=at(-300),
        finished_at=at(-200),
        progress=1.0,
    )


def test_no_pace_while_only_retries_wait() -> None:
    batch = running([waiting_to_retry(1), succeeded_before_this_run(2)])
    facts = progress(batch, at(30))
    assert facts.rate is None  # the retrying item has not ended; item 2 ended in another run
    assert (facts.retrying, facts.waiting) == (1, 0)


def test_pace_once_an_item_of_this_run_ended() -> None:
    done = BatchItem(
        id="i3",
        position=3,
        content="z",
        status=ItemStatus.FAILED,
        attempts=1,
        started_at=at(1),
        finished_at=at(20),
    )
    facts = progress(running([waiting_to_retry(1), done]), at(30))
    assert facts.rate == 2.0  # one item in 30 s


def test_the_canary_while_it_runs_alone() -> None:
    batch = running([waiting_to_retry(1), BatchItem(id="i2", position=2, content="y")], canary=True)
    assert progress(batch, at(30)).canary == 1
    batch.items[0] = BatchItem(
        id="i1",
        position=1,
        content="x",
        status=ItemStatus.SUCCEEDED,
        attempts=2,
        started_at=at(60),
        finished_at=at(70),
    )
    assert progress(batch, at(80)).canary is None  # it succeeded: the others fan out
    batch.config = BatchConfig()
    batch.items[0] = waiting_to_retry(1)
    assert progress(batch, at(30)).canary is None  # no canary configured


def test_the_canary_is_the_first_item_this_run_runs() -> None:
    batch = running([succeeded_before_this_run(1), waiting_to_retry(2)], canary=True)
    assert progress(batch, at(30)).canary == 2


def test_the_bar_never_shrinks_as_an_item_fails_or_goes_back_to_wait() -> None:
    item = BatchItem(
        id="i1", position=1, content="x", status=ItemStatus.RUNNING, progress=0.8, attempts=1
    )
    other = BatchItem(id="i2", position=2, content="y", status=ItemStatus.RUNNING, attempts=1)
    batch = running([item, other])
    before = parts(progress(batch, at(10)))
    assert before.done == 0.4 and before.in_flight == 0.4
    batch.items[0] = waiting_to_retry(1)  # back to waiting: its work is to be done again
    later = parts(progress(batch, at(11)), floor=before.done)
    assert later.done == before.done
    batch.items[0] = BatchItem(
        id="i1", position=1, content="x", status=ItemStatus.FAILED, finished_at=at(12)
    )
    failed = parts(progress(batch, at(12)), floor=later.done)
    assert (failed.succeeded, failed.ended_otherwise) == (0.0, 0.5)
    assert failed.done == 0.5


def test_the_bar_tells_success_from_failure_by_shape() -> None:
    drawn = render_bar(parts_of(succeeded=1, failed=1, total=4), 25).plain
    assert drawn == "█████▚▚▚▚▚──────────  50%"  # a quarter ok, a quarter failed


def parts_of(*, succeeded: int, failed: int, total: int):
    items = [
        BatchItem(id=f"s{n}", position=n, content="x", status=ItemStatus.SUCCEEDED)
        for n in range(1, succeeded + 1)
    ]
    items += [
        BatchItem(id=f"f{n}", position=succeeded + n, content="x", status=ItemStatus.FAILED)
        for n in range(1, failed + 1)
    ]
    items += [
        BatchItem(id=f"p{n}", position=len(items) + n, content="x")
        for n in range(1, total - len(items) + 1)
    ]
    return parts(progress(running(items), at(10)))


def test_wrap_line_counts_cells_and_keeps_character_offsets() -> None:
    assert wrap_line("abcdefg", 3) == [(0, "abc"), (3, "def"), (6, "g")]
    assert wrap_line("", 5) == [(0, "")]
    assert wrap_line("宇宙x", 3) == [(0, "宇"), (1, "宙x")]  # a wide character is two cells


def test_the_pager_is_an_argument_list_never_a_shell(tmp_path) -> None:
    from batchtui.tui.pager import pager_argv

    log = str(tmp_path / "a log; rm -rf ~.log")
    assert pager_argv(log, {"PAGER": "less -R"})[-2:] == ["-R", log]
    if shutil.which("less"):
        assert pager_argv(log, {}) == [shutil.which("less") and "less", log]  # PAGER unset
    said = pager_argv(log, {"PAGER": "no-such-pager-here"})
    assert (
        said
        == "no pager: $PAGER 'no-such-pager-here' is not installed (set PAGER, e.g. PAGER=more)"
    )
