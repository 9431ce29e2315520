"""Snapshots at 80x24 of readable logs and true progress words: a log wrapped (`w`), a log
searched (`/`, the current match highlighted), and the progress screen with items waiting to
retry (their countdowns) in the canary phase. Update with `--snapshot-update`, then look."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from batchtui.core.models import BatchStatus, ItemStatus

from .tui_support import NOW, batch, item, make_app, make_service, opening, ran, store

pytestmark = pytest.mark.slow

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def utc():
    """Times on screen are local times: make 'local' UTC for these tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


def app_for(db_path, *batches):
    store(db_path, *batches)
    return make_app(make_service(db_path))


def failed_with_long_lines(tmp_path):
    log = tmp_path / "01-how-stars-die.log"
    log.write_text(
        "=== attempt 1 of item 1 at 2026-11-25T11:59:00+00:00 ===\n"
        "$ render.py --text 'How stars die' --font Impact --size 1080x1920 --fps 30 --out "
        "/render/out/space-facts-b00001/01-how-stars-die.mp4\n"
        + "".join(
            f"frame {n:03d}/150 encoded in 41 ms, queue 3, bitrate 4.1 Mb/s\n" for n in range(1, 9)
        )
        + "ffmpeg: error while opening encoder for output stream #0:0 - maybe incorrect "
        "parameters such as bit_rate, rate, width or height (font not found: Impact)\n"
        "RuntimeError: out of GPU memory while rendering frame 9 of 150 (asked 2.1 GiB, 0.3 free)\n"
    )
    failed = ran(1, "How stars die", ItemStatus.FAILED, error="exit code 1: font not found")
    return batch(
        1, "Space Facts", BatchStatus.FAILED, [failed.model_copy(update={"log_path": str(log)})]
    )


def test_log_wrapped(snap_compare, db_path, tmp_path):
    """`L` then `w`: the long lines wrap at 80 columns instead of being cut."""
    ended = failed_with_long_lines(tmp_path)
    app = app_for(db_path, ended)
    assert snap_compare(
        app, terminal_size=SIZE, run_before=opening(ended.id, progress=True), press=["L", "w"]
    )


def test_log_searched(snap_compare, db_path, tmp_path):
    """`L`, `g`, then `/font` enter and `n`: the second match is the current one, reversed."""
    ended = failed_with_long_lines(tmp_path)
    app = app_for(db_path, ended)
    keys = ["L", "g", "slash", "f", "o", "n", "t", "enter", "n"]
    assert snap_compare(
        app, terminal_size=SIZE, run_before=opening(ended.id, progress=True), press=keys
    )


def test_progress_retrying_in_the_canary_phase(snap_compare, db_path):
    """Item 1, the canary, waits 12 s for its retry 2/3 (counted as retrying, never as
    waiting for a host slot); one item at a time until it succeeds; no pace yet."""
    canary = item(
        1,
        "Why is space dark?",
        attempts=2,
        started_at=NOW - timedelta(seconds=20),
        finished_at=NOW - timedelta(seconds=5),
        error="exit code 3: the GPU is busy (another render holds it)",
        retry_at=NOW + timedelta(seconds=12),
        retries_used=2,
        waiting="retry 2/3 at 12:00:12",
    )
    others = [
        item(2, "What are black holes?"),
        item(3, "How stars die"),
        item(4, "Is the Moon drifting away?"),
    ]
    running = batch(
        1, "Space Facts", BatchStatus.PROCESSING, [canary, *others], canary=True, retries=3
    )
    app = app_for(db_path, running)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(running.id, progress=True))
