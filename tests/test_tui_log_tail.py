"""The log pane: it starts at the end of the log (where the error is), follows new lines, and
a note shown while nothing is logged gives way to the first real line."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from batchtui.tui.widgets.log_tail import LogTail

pytestmark = pytest.mark.anyio


class TailApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LogTail(id="log")


async def test_a_long_log_opens_at_its_end_and_follows(tmp_path: Path) -> None:
    log = tmp_path / "item.log"
    log.write_text("".join(f"line {n}\n" for n in range(1, 201)))
    app = TailApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(LogTail)
        pane.follow(str(log))
        await pilot.pause()
        await pilot.pause()
        assert pane.lines[-1] == "line 200"
        assert pane.max_scroll_y > 0 and pane.scroll_y == pane.max_scroll_y
        with log.open("a") as handle:
            handle.write("the error at the end\n")
        pane.poll()
        await pilot.pause()
        assert pane.lines[-1] == "the error at the end"
        assert pane.scroll_y == pane.max_scroll_y


async def test_the_nothing_logged_note_gives_way_to_real_lines(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    app = TailApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(LogTail)
        pane.follow(str(log))
        await pilot.pause()
        assert list(pane.lines) == ["(nothing logged yet)"]
        log.write_text("first real line\n")
        pane.poll()
        await pilot.pause()
        assert list(pane.lines) == ["first real line"]


class ShortPaneApp(App[None]):
    CSS = "LogTail { height: 5; }"

    def compose(self) -> ComposeResult:
        yield LogTail(id="log")


@pytest.mark.slow
async def test_a_short_log_that_grows_past_the_pane_keeps_following(tmp_path: Path) -> None:
    """The live case: the file starts with two lines and grows one line per poll."""
    log = tmp_path / "grow.log"
    log.write_text("=== attempt 1 ===\n$ render.sh\n")
    app = ShortPaneApp()
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(LogTail)
        pane.follow(str(log))
        await pilot.pause()
        for step in range(1, 13):
            with log.open("a") as handle:
                handle.write(f"{step * 8}%\n")
            pane.poll()
            await pilot.pause()
        assert pane.max_scroll_y > 0
        assert pane.scroll_y == pane.max_scroll_y  # the newest line is in view
        # Scrolling back stops following (new lines do not yank the view); End resumes.
        pane.focus()
        await pilot.press("home")
        with log.open("a") as handle:
            handle.write("late line\n")
        pane.poll()
        await pilot.wait_for_animation()
        assert pane.scroll_y == 0 < pane.max_scroll_y
        await pilot.press("end")
        await pilot.pause()
        await pilot.wait_for_animation()
        assert pane.scroll_y == pane.max_scroll_y and pane.lines[-1] == "late line"


async def test_the_nothing_yet_note_says_nothing_was_logged_once_the_item_ends(tmp_path: Path):
    log = tmp_path / "silent.log"
    app = TailApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(LogTail)
        pane.follow(str(log))  # running: nothing yet
        await pilot.pause()
        assert list(pane.lines) == ["(nothing logged yet)"]
        pane.follow(str(log), ended=True)  # the same item, now over, never logged
        await pilot.pause()
        assert list(pane.lines) == ["(the item logged nothing)"]


class SearchApp(App[None]):
    def compose(self) -> ComposeResult:
        from batchtui.tui.widgets.log_search import LogSearch

        yield LogTail(id="log")
        yield LogSearch("log")


async def test_keys_sent_to_the_log_before_the_search_box_took_the_focus_are_the_boxs(
    tmp_path: Path,
) -> None:
    """`/disk full⏎` in one read: the keys after `/` were all sent to the log before the box
    had the focus; the log may take them up only once the box has it. They still search."""
    from textual import events

    from batchtui.tui.widgets.log_search import LogSearch

    log = tmp_path / "item.log"
    log.write_text("".join(f"line {n}: word word\n" for n in range(1, 40)) + "ERROR disk full\n")
    app = SearchApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(LogTail)
        pane.follow(str(log))
        pane.focus()
        await pilot.pause()
        pane.post_message(events.Key("slash", "/"))
        await pilot.pause()
        box = app.query_one(LogSearch)
        assert box.has_focus and box.is_open  # the focus moved before the rest were taken up
        for char in "disk full":
            pane.post_message(events.Key("space" if char == " " else char, char))
        pane.post_message(events.Key("enter", "\r"))
        await pilot.pause()
        assert pane.pattern == "disk full" and len(pane.matches) == 1 and pane.current == 0
        assert not box.is_open and pane.has_focus


async def test_a_search_typed_in_one_read_goes_to_the_box_in_order(tmp_path: Path) -> None:
    """Every key of `/disk full⏎` is with the app before it takes up the first: the box has the
    focus as soon as `/` is read, so the rest go to it, and only to it, in order."""
    from textual import events

    from batchtui.tui.widgets.log_search import LogSearch

    log = tmp_path / "item.log"
    log.write_text("ERROR disk full\n" + "".join(f"line {n}: a full disk\n" for n in range(9)))
    app = SearchApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(LogTail)
        pane.follow(str(log))
        pane.focus()
        await pilot.pause()
        for char in "/disk full\r":
            name = {"/": "slash", " ": "space", "\r": "enter"}.get(char, char)
            app.post_message(events.Key(name, char))
        await pilot.pause()
        assert pane.pattern == "disk full" and [m.line for m in pane.matches] == [0]
        assert not app.query_one(LogSearch).is_open and pane.has_focus
