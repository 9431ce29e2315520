"""Snapshot tests: each main screen of the TUI in a known state, at 80x24.

Every test builds its own database with the deterministic builders of `tui_support` (fixed
clock, fixed ids, fake output paths under /render/out that are never written). Update the
SVGs with `pytest tests/test_tui_snapshots.py --snapshot-update`, then look at them.
"""

from __future__ import annotations

import time

import pytest

from batchtui.core.models import BatchStatus, ItemStatus

from .tui_support import (
    batch,
    every_status,
    item,
    make_app,
    make_service,
    mid_pipeline,
    mid_run,
    opening,
    partial,
    ran,
    reviewed,
    store,
    waiting_for_slots,
)

pytestmark = pytest.mark.slow

SIZE = (80, 24)

# Text that must reach the screen exactly as typed: markup, escapes, bidi text and emoji.
HOSTILE_NAME = "[bold]Hostile[/bold] [/] name"
HOSTILE_ITEMS = [
    "[bold]x[/bold] stays plain",
    "closing tag alone: [/]",
    "[link=http://x]y[/link] is no link",
    "\x1b[31mred\x1b[0m is not red",
    "עברית: שלום עולם",
    "العربية: مرحبا بالعالم",
    "emoji 🎬🚀 and café ✨",
]
HOSTILE_ERROR = "[red]boom[/red] \x1b[2J cleared?"


@pytest.fixture(autouse=True)
def utc():
    """Times on screen are local times: make 'local' UTC for these tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


@pytest.fixture
def lock_checks_pass_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Locking validates: keep it from creating /render/out, needing /render or ffmpeg here."""
    monkeypatch.setattr("batchtui.service.validation.folder_problem", lambda folder: None)
    monkeypatch.setattr("batchtui.generators.titlecard.ffmpeg_exe", lambda: "ffmpeg")
    monkeypatch.setattr("batchtui.generators.titlecard.executable_problem", lambda *a: None)
    monkeypatch.setattr("batchtui.service.validation.workdir_problem", lambda workdir: None)


def app_for(db_path, *batches):
    if batches:
        store(db_path, *batches)
    return make_app(make_service(db_path))


def draft_with_items():
    return batch(
        1,
        "Space Facts",
        BatchStatus.DRAFT,
        [
            item(1, "Why is space dark?"),
            item(2, "What are black holes?"),
            item(3, "How stars die"),
            item(4, "Is the Moon drifting away?"),
            item(5, "What is a light year?"),
        ],
    )


def hostile_run():
    return batch(
        1,
        HOSTILE_NAME,
        BatchStatus.PARTIAL,
        [
            ran(n, text, ItemStatus.SUCCEEDED, slug=f"hostile-{n}")
            for n, text in enumerate(HOSTILE_ITEMS[:-1], start=1)
        ]
        + [ran(len(HOSTILE_ITEMS), HOSTILE_ITEMS[-1], ItemStatus.FAILED, error=HOSTILE_ERROR)],
        max_items=20,
    )


def test_empty_list(snap_compare, db_path):
    assert snap_compare(app_for(db_path), terminal_size=SIZE)


def test_list_every_status(snap_compare, db_path):
    assert snap_compare(app_for(db_path, *every_status()), terminal_size=SIZE)


def test_editor_with_items(snap_compare, db_path):
    draft = draft_with_items()
    app = app_for(db_path, draft)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(draft.id))


def test_editor_validation_error(snap_compare, db_path, lock_checks_pass_offline):
    too_long = batch(
        1,
        "Space Facts",
        BatchStatus.DRAFT,
        [item(1, "Why is space dark?"), item(2, "What are black holes?")],
        platform="youtube_shorts",
        duration=90,
    )
    app = app_for(db_path, too_long)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(too_long.id), press=["l"])


def test_editor_locked_batch(snap_compare, db_path):
    locked = batch(
        1,
        "Space Facts",
        BatchStatus.LOCKED,
        [item(1, "Why is space dark?"), item(2, "What are black holes?"), item(3, "How stars die")],
    )
    app = app_for(db_path, locked)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(locked.id))


def test_progress_mid_run(snap_compare, db_path):
    running = mid_run()
    app = app_for(db_path, running)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(running.id, progress=True))


def test_progress_partial_failed_only(snap_compare, db_path):
    ended = partial()
    app = app_for(db_path, ended)
    assert snap_compare(
        app, terminal_size=SIZE, run_before=opening(ended.id, progress=True), press=["f"]
    )


def test_item_detail(snap_compare, db_path):
    ended = partial()
    app = app_for(db_path, ended)
    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=opening(ended.id, progress=True),
        press=["down", "enter"],
    )


def test_progress_of_a_reviewed_series(snap_compare, db_path):
    looked = reviewed()
    app = app_for(db_path, looked)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(looked.id, progress=True))


def test_item_detail_of_a_second_take(snap_compare, db_path):
    looked = reviewed()
    app = app_for(db_path, looked)
    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=opening(looked.id, progress=True),
        press=["end", "enter"],
    )


def test_reject_asks_why(snap_compare, db_path):
    looked = reviewed()
    app = app_for(db_path, looked)
    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=opening(looked.id, progress=True),
        press=["end", "x", *"wrong font"],
    )


def test_progress_of_a_pipeline(snap_compare, db_path):
    running = mid_pipeline()
    app = app_for(db_path, running)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(running.id, progress=True))


def test_item_detail_of_a_pipeline_item(snap_compare, db_path):
    running = mid_pipeline()
    app = app_for(db_path, running)
    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=opening(running.id, progress=True),
        press=["down", "enter"],
    )


def test_help_on_list(snap_compare, db_path):
    assert snap_compare(app_for(db_path, *every_status()), terminal_size=SIZE, press=["?"])


def test_hostile_content_in_editor(snap_compare, db_path):
    draft = batch(
        1,
        HOSTILE_NAME,
        BatchStatus.DRAFT,
        [item(n, text) for n, text in enumerate(HOSTILE_ITEMS, start=1)],
        max_items=20,
    )
    app = app_for(db_path, draft)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(draft.id))


def test_hostile_content_in_progress(snap_compare, db_path):
    ended = hostile_run()
    app = app_for(db_path, ended)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(ended.id, progress=True))


def test_progress_waiting_for_a_host_slot(snap_compare, db_path):
    waiting = waiting_for_slots()
    app = app_for(db_path, waiting)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(waiting.id, progress=True))


def test_start_dialog(snap_compare, db_path):
    """`s` on a LOCKED batch: a last look before it goes to a runner process of its own."""
    app = app_for(db_path, *every_status())
    assert snap_compare(app, terminal_size=SIZE, press=["down"] * 4 + ["s"])


def test_quit_dialog_offers_to_leave_runs_going(snap_compare, db_path):
    batches = every_status()
    running = next(b for b in batches if b.status is BatchStatus.PROCESSING)
    app = app_for(db_path, *batches)

    async def started_here(pilot) -> None:
        pilot.app.started_here.add(running.id)

    assert snap_compare(app, terminal_size=SIZE, run_before=started_here, press=["q"])


def test_log_view_full_screen_at_the_end(snap_compare, db_path, tmp_path):
    """`L`: the selected item's whole log, opened at its end where the error is."""
    log = tmp_path / "03-how-stars-die.log"
    log.write_text(
        "=== attempt 1 of item 3 ===\n$ render.py --text 'How stars die'\n"
        + "".join(f"frame {n:03d}/150 encoded\n" for n in range(1, 61))
        + 'Traceback (most recent call last):\n  File "render.py", line 12, in <module>\n'
        "RuntimeError: out of GPU memory\n"
    )
    failed = ran(1, "How stars die", ItemStatus.FAILED, error="exit code 1: out of GPU memory")
    ended = batch(
        1, "Space Facts", BatchStatus.FAILED, [failed.model_copy(update={"log_path": str(log)})]
    )
    app = app_for(db_path, ended)
    assert snap_compare(
        app, terminal_size=SIZE, run_before=opening(ended.id, progress=True), press=["L"]
    )


def test_run_one_item_again_asks_first(snap_compare, db_path):
    ended = partial()
    app = app_for(db_path, ended)
    assert snap_compare(
        app, terminal_size=SIZE, run_before=opening(ended.id, progress=True), press=["R"]
    )


def test_list_filter_that_matches_nothing_says_so(snap_compare, db_path):
    app = app_for(db_path, *every_status())
    assert snap_compare(app, terminal_size=SIZE, press=["slash", "z", "z", "z", "enter"])


def test_list_sorted_by_status(snap_compare, db_path):
    app = app_for(db_path, *every_status())
    assert snap_compare(app, terminal_size=SIZE, press=["o", "o", "o"])


def test_list_with_marked_rows(snap_compare, db_path):
    """Two batches marked (space twice): '* ' before their names, '2 marked' in the title."""
    app = app_for(db_path, *every_status())
    assert snap_compare(app, terminal_size=SIZE, press=["space", "space"])


def test_editor_with_marked_rows(snap_compare, db_path):
    """Items 1 and 3 marked (space, down, space): a '*' in the mark column and '2 marked'
    in the title; the footer offers what acts on them."""
    draft = draft_with_items()
    app = app_for(db_path, draft)
    assert snap_compare(
        app, terminal_size=SIZE, run_before=opening(draft.id), press=["space", "down", "space"]
    )


def command_draft():
    return batch(
        7,
        "Notes",
        BatchStatus.DRAFT,
        [item(1, "hello world")],
        generator="command",
        command="python3 write.py {content} {output}",
        retries=2,
        canary=True,
        max_failures="20%",
        timeout=60,
    )


def test_config_form_as_it_opens(snap_compare, db_path):
    """The whole config form at 80x24 as a user first sees it: the basics open, the other
    groups collapsed, each titled with what it holds that is not the default."""
    draft = command_draft()
    app = app_for(db_path, draft)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(draft.id))


def test_config_form_retries_open(snap_compare, db_path):
    """The retries group opened (enter on its title), the basics closed."""
    draft = command_draft()

    async def open_retries(pilot) -> None:
        await opening(draft.id)(pilot)
        from textual.widgets import Collapsible

        pilot.app.screen.query_one("#group-basics", Collapsible).collapsed = True
        pilot.app.screen.query_one("#group-retries", Collapsible).collapsed = False
        await pilot.pause()

    app = app_for(db_path, draft)
    assert snap_compare(app, terminal_size=SIZE, run_before=open_retries)


def test_config_form_news_open_on_a_locked_batch(snap_compare, db_path):
    """Who hears of a run, open on a LOCKED batch: its boxes editable (they may change in
    any state), the rest read-only; a webhook, a notification address, the hook, and events
    said to be none."""
    done = batch(
        8,
        "Notes",
        BatchStatus.LOCKED,
        [item(1, "hello world")],
        generator="command",
        command="python3 write.py {content} {output}",
        webhooks=["https://hooks.example.com/batchtui?k=1"],
        notify=["ntfy://renders"],
        on_end="notify-send {name} {status}",
        events=[],
    )

    async def open_news(pilot) -> None:
        await opening(done.id)(pilot)
        from textual.widgets import Collapsible

        pilot.app.screen.query_one("#group-basics", Collapsible).collapsed = True
        pilot.app.screen.query_one("#group-news", Collapsible).collapsed = False
        await pilot.pause()

    app = app_for(db_path, done)
    assert snap_compare(app, terminal_size=SIZE, run_before=open_news)


def series_draft():
    """A draft whose items have keys and variables (a long one cut with '…')."""
    return batch(
        9,
        "Series",
        BatchStatus.DRAFT,
        [
            item(1, "Why is space dark?", vars={"voice": "alto", "seed": 7}, key="dark"),
            item(
                2,
                "What are black holes?",
                vars={"voice": "bass", "subtitle": "Light cannot leave them, not even once"},
            ),
            item(3, "How stars die", vars={"voice": "[bold]tenor[/]"}, key="stars"),
        ],
    )


def test_editor_with_var_columns(snap_compare, db_path):
    """A column per variable and a Key column beside the items; the table scrolls sideways
    (its scrollbar under the rows); a value with markup in it shows as typed."""
    draft = series_draft()
    app = app_for(db_path, draft)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(draft.id))


def test_vars_dialog(snap_compare, db_path):
    """`v` on item 1: its variables as name=value lines, its key below, save and cancel."""
    draft = series_draft()
    app = app_for(db_path, draft)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(draft.id), press=["v"])
