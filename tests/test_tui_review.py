"""Review by keys on the progress screen: x asks why and rejects (the note typed with the
letters that are keys elsewhere), r makes the rejected again in a runner process, a approves
the new take and lets the kept one go; marked rows are reviewed together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus
from batchtui.core.review import review_state
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.dialogs import ConfirmScreen, PromptScreen
from batchtui.tui.screens.progress import ProgressScreen

from .helpers import wait_until
from .tui_support import make_app, type_text

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # a real runner per test


@pytest.fixture
def finished(run_cli, make_script, out_dir: Path) -> str:
    script = make_script(
        "w.py", "import sys\nopen(sys.argv[2], 'w').write(sys.argv[1] + sys.argv[3])\n"
    )
    created = run_cli(
        "create", "Look", "--generator", "command", "--command",
        f"{script} {{content}} {{output}} {{take}}", "--output", str(out_dir), "--ext", "txt",
        "--json",
    )  # fmt: skip
    batch_id = json.loads(created.out)["id"]
    assert run_cli("add", batch_id, "one", "two", "three").code == 0
    assert run_cli("lock", batch_id).code == 0
    assert run_cli("start", batch_id).code == 0
    return batch_id


async def test_reject_remake_and_approve_by_keys(db_path, finished):
    service = BatchService(Repository(db_path), flush_interval=0.02)
    app = make_app(service, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_progress(finished)
        await pilot.pause()
        assert isinstance(app.screen, ProgressScreen)
        progress = app.screen
        await pilot.press("end", "x")  # in one go: the last row is the one rejected
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await type_text(pilot, "axe rx: a lot")  # keys elsewhere, letters here
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is progress
        third = service.get(finished).items[2]
        assert review_state(third) == "rejected" and third.review.note == "axe rx: a lot"
        assert "0 approved · 1 rejected · 2 to review" in str(
            progress.query_one("#run-counts").render()
        )

        await pilot.press("r")  # every item succeeded: r makes the rejected one again
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await wait_until(lambda: (service.get(finished).items[2].take or 1) == 2, limit=30)
        await wait_until(
            lambda: (
                service.get(finished).status is BatchStatus.COMPLETE
                and service.get(finished).items[2].output_path is not None
            ),
            limit=30,
        )
        remade = service.get(finished).items[2]
        assert Path(remade.output_path).read_text() == "three2"
        kept = Path(remade.takes[0].output)
        assert kept.read_text() == "three1"
        await wait_until(lambda: progress.current.items[2].take == 2)

        await pilot.press("end", "a")
        await pilot.pause()
        assert review_state(service.get(finished).items[2]) == "approved"
        assert not kept.exists()  # the rejected take goes once the new one is approved

        # Marked rows are reviewed together.
        await pilot.press("home", "space", "space", "a")
        await pilot.pause()
        states = [review_state(item) for item in service.get(finished).items]
        assert states == ["approved", "approved", "approved"]


async def test_escape_in_the_note_rejects_nothing(db_path, finished):
    service = BatchService(Repository(db_path), flush_interval=0.02)
    app = make_app(service, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_progress(finished)
        await pilot.pause()
        progress = app.screen
        await pilot.press("x")
        await pilot.pause()
        await type_text(pilot, "nope")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is progress
        assert all(item.review is None for item in service.get(finished).items)


async def test_a_note_pasted_in_several_lines_is_kept_whole(db_path, finished):
    """A bracketed paste of several lines goes into the one-line note joined by spaces (the
    box used to keep the first line and drop the rest unseen)."""
    from textual import events

    service = BatchService(Repository(db_path), flush_interval=0.02)
    app = make_app(service, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_progress(finished)
        await pilot.pause()
        progress = app.screen
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        app.post_message(events.Paste("too dark\r\n\r\n  and the voice\nis wrong\n"))
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is progress
        first = service.get(finished).items[0]
        assert review_state(first) == "rejected"
        assert first.review.note == "too dark and the voice is wrong"
