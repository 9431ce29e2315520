"""Dialogs and keys the way people press them, in the real app on a pty (tests/terminal.py).

Each test sends what a person (or a slow SSH link) sends in ONE write: two enters in a prompt,
`G⏎` on a list, ctrl+c to leave; and reads the screen a person sees.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from batchtui.core.errors import BatchtuiError
from batchtui.core.models import BatchStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .terminal import CTRL_C, ENTER, ESC, Terminal

pytestmark = pytest.mark.slow

LIST_READY = "Open"  # the footer's "⏎ Open": the batch list is drawn and takes keys


def _service(db_path: Path) -> BatchService:
    return BatchService(Repository(db_path))


def _until(condition: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")


def _drafts(service: BatchService, names: list[str]) -> None:
    for name in names:
        batch = service.create(name)
        service.add_items(batch.id, [f"{name} item"])


def _row_names(screen: str, names: list[str]) -> list[str]:
    """The batch names in the order the list shows them."""
    rows = [line for line in screen.splitlines() if any(name in line for name in names)]
    return [next(name for name in names if name in row) for row in rows]


def _after_the_ui(term: Terminal) -> str:
    """What the program wrote once the UI had given the terminal back (its alternate screen
    left), as one line: the pty turns newlines into CR LF, and no line break is kept."""
    after = term.raw.rsplit(b"\x1b[?1049l", 1)[-1].decode("utf-8", "replace")
    return after.replace("\r", "").replace("\n", " ")


def _alive_after(term: Terminal, screen_test: Callable[[str], bool], what: str) -> str:
    screen = term.wait_for(screen_test, timeout=20, settle=0.5)
    assert term.process.poll() is None, f"the app ended ({what}):\n{screen}"
    assert "Traceback" not in screen and "Error" not in screen, screen
    return screen


# ------------------------------------------------------- a dialog answers once


def test_two_enters_in_save_as_template_save_once_and_keep_the_list(db_path: Path) -> None:
    service = _service(db_path)
    _drafts(service, ["Cats"])
    with Terminal.batchtui(db_path) as term:
        term.wait_for(LIST_READY)
        term.send(b"T")
        term.wait_for("as a template")
        term.send(b"cat-facts" + ENTER + ENTER)  # one write: enter pressed twice
        screen = _alive_after(
            term, lambda s: "as a template" not in s and "Cats" in s, "after two enters"
        )
        assert LIST_READY in screen, f"the batch list is gone:\n{screen}"
        term.send(b"q")
        assert term.wait_exit() == 0
    templates, _problems = service.templates()
    assert [t.name for t in templates] == ["cat-facts"]


def test_two_enters_in_the_new_batch_dialog_make_one_batch(db_path: Path) -> None:
    with Terminal.batchtui(db_path) as term:
        term.wait_for("No batches")
        term.send(b"n")
        term.wait_for("New batch")
        term.send(b"Dogs" + ENTER + ENTER)
        _alive_after(term, lambda s: "New batch" not in s and "Dogs" in s, "after two enters")
        term.send(b"\x11")  # ctrl+q
        term.wait_exit()
    assert [s.name for s in _service(db_path).summaries()] == ["Dogs"]


def test_two_enters_in_duplicate_make_one_copy_and_open_it(db_path: Path) -> None:
    service = _service(db_path)
    _drafts(service, ["Birds"])
    with Terminal.batchtui(db_path) as term:
        term.wait_for(LIST_READY)
        term.send(b"D")
        term.wait_for("New batch from")
        term.send(ENTER + ENTER)
        _alive_after(term, lambda s: "Birds (copy)" in s and "New batch from" not in s, "dup")
        term.send(b"\x11")
        term.wait_exit()
    assert sorted(s.name for s in service.summaries()) == ["Birds", "Birds (copy)"]


def test_two_escapes_on_help_keep_the_list(db_path: Path) -> None:
    _drafts(_service(db_path), ["Cats"])
    with Terminal.batchtui(db_path) as term:
        term.wait_for(LIST_READY)
        term.send(b"?")
        term.wait_for("Help")
        term.send(ESC + ESC)
        screen = _alive_after(term, lambda s: "Help —" not in s, "after two escapes")
        assert "Cats" in screen and LIST_READY in screen, screen


# ------------------------------------------------- one confirm key scheme


@pytest.mark.parametrize(("keys", "deleted"), [(ENTER, True), (b"y", True), (b"n", False)])
def test_delete_dialog_confirms_with_enter_or_y_and_cancels_with_n(
    db_path: Path, keys: bytes, deleted: bool
) -> None:
    service = _service(db_path)
    _drafts(service, ["Cats"])
    with Terminal.batchtui(db_path) as term:
        term.wait_for(LIST_READY)
        term.send(b"x")
        screen = term.wait_for("Delete 'Cats'?")
        assert "Delete  ⏎/y" in screen and "Keep  esc/n" in screen, screen
        term.send(keys)
        term.wait_for(lambda s: "Delete 'Cats'?" not in s, settle=0.3)
        term.send(b"q")
        assert term.wait_exit() == 0
    assert [s.name for s in service.summaries()] == ([] if deleted else ["Cats"])


# ------------------------------------------------ keys in the order they came


@pytest.mark.parametrize("keys", [b"G", b"jj", b"gj"])
def test_a_burst_on_the_batch_list_opens_the_row_the_cursor_moved_to(
    db_path: Path, keys: bytes
) -> None:
    names = ["Alpha", "Bravo", "Charlie", "Delta"]
    _drafts(_service(db_path), names)
    with Terminal.batchtui(db_path) as term:
        shown = _row_names(term.wait_for(lambda s: all(n in s for n in names), settle=0.3), names)
        target = {b"G": shown[-1], b"jj": shown[2], b"gj": shown[1]}[keys]
        term.send(keys + ENTER)  # one write, as over a slow link
        screen = term.wait_for(f"{target} item", timeout=20)
        others = [n for n in names if n != target]
        assert not any(f"{n} item" in screen for n in others), screen


def test_a_burst_on_the_progress_screen_opens_the_item_the_cursor_moved_to(
    db_path: Path, make_script
) -> None:
    service = _service(db_path)
    script = make_script("fail.py", "import sys\nsys.exit(3)\n")
    batch = service.create(
        "Run", generator="command", command=f"{script} {{output}}", output_ext="txt"
    )
    service.add_items(batch.id, ["first topic", "second topic", "third topic"])
    service.lock(batch.id)
    service.start_detached(batch.id)
    _until(lambda: service.get(batch.id).status is not BatchStatus.PROCESSING, "the run ends")
    with Terminal.batchtui(db_path) as term:
        term.wait_for(LIST_READY)
        term.send(ENTER)
        term.wait_for(lambda s: "third topic" in s and "first topic" in s, settle=0.3)
        term.send(b"G" + ENTER)
        screen = term.wait_for("Item 3", timeout=20)
        assert "Item 1" not in screen, screen


# ---------------------------------------------------------------- quitting


def test_ctrl_c_quits_when_nothing_started_here_runs(db_path: Path) -> None:
    with Terminal.batchtui(db_path) as term:
        term.wait_for("No batches")
        term.send(CTRL_C)
        assert term.wait_exit() == 0


def test_stop_them_on_quit_says_they_stop_not_that_they_go_on(db_path: Path, make_script) -> None:
    service = _service(db_path)
    script = make_script("slow.py", "import time\ntime.sleep(30)\n")
    batch = service.create(
        "Slow", generator="command", command=f"{script} {{output}}", output_ext="txt"
    )
    service.add_items(batch.id, ["one"])
    service.lock(batch.id)
    try:
        with Terminal.batchtui(db_path) as term:
            term.wait_for(LIST_READY)
            term.send(b"s")
            term.wait_for("Not now")
            term.send(ENTER)
            term.wait_for("runs in its own process")
            term.send(CTRL_C)  # ctrl+c quits, asking first: a run started here goes on
            term.wait_for("Stop them")
            term.send(b"s")
            assert term.wait_exit() == 0
            said = _after_the_ui(term)
        assert re.search(r"stop(ping|ped) 'Slow' as you asked", said), said[-600:]
        assert "goes on" not in said and "go on in the background" not in said, said[-600:]
        _until(lambda: service.get(batch.id).status is not BatchStatus.PROCESSING, "it stops")
        assert service.get(batch.id).cancelled, "Stop them cancelled the run"
    finally:
        with contextlib.suppress(BatchtuiError):  # it may end between the look and the cancel
            if service.get(batch.id).status is BatchStatus.PROCESSING:
                service.cancel(batch.id)


# ------------------------------------------------------------------ crashes

CRASHING = """
import sys
from batchtui import launch
from batchtui.tui.screens.batch_list import BatchListScreen

def broken(self):
    raise RuntimeError("a bug, on purpose")

BatchListScreen.action_new = broken  # patched in this process only: a real crash on `n`
launch.run(sys.argv[1:])
"""


def test_a_crash_writes_a_crash_log_says_where_and_exits_non_zero(
    db_path: Path, tmp_path: Path
) -> None:
    with Terminal([sys.executable, "-c", CRASHING, "--db", str(db_path)]) as term:
        term.wait_for("No batches")
        term.send(b"n")
        code = term.wait_exit()
        said = _after_the_ui(term)
    assert code != 0
    crashes = list((Path(os.environ["XDG_STATE_HOME"]) / "batchtui" / "crashes").glob("*.log"))
    assert len(crashes) == 1, said[-800:]
    assert "a bug, on purpose" in crashes[0].read_text(encoding="utf-8")
    assert f"the crash log is {crashes[0]}" in said, said[-800:]


# -------------------------------------------------------- the template list

DOWN = b"\x1b[B"


@pytest.mark.parametrize(
    "keys",
    [
        b"\t\t" + DOWN + DOWN + ENTER,  # open the list, move to the template, enter: one burst
        b"\t\t" + ENTER + DOWN + ENTER,  # enter opens the closed list (nothing chosen yet)
    ],
    ids=["arrows-enter", "enter-arrow-enter"],
)
def test_enter_on_the_template_list_creates_the_batch_with_that_template(
    db_path: Path, keys: bytes
) -> None:
    service = _service(db_path)
    source = service.create("Source", platform="tiktok")
    service.add_items(source.id, ["from the template"])
    service.save_template(source.id, "facts")
    with Terminal.batchtui(db_path) as term:
        term.wait_for(LIST_READY)
        term.send(b"n")
        term.wait_for("No template")
        term.send(b"Made" + keys)
        term.wait_for("from the template", timeout=20)
    made = service.get("Made")
    assert [i.content for i in made.items] == ["from the template"]
    assert made.config.platform == "tiktok"


# ------------------------------------------------------ toasts and dialogs


def test_a_toast_never_covers_a_dialog(db_path: Path) -> None:
    _drafts(_service(db_path), ["Cats"])
    with Terminal.batchtui(db_path) as term:
        term.wait_for(LIST_READY)
        term.send(b"l")  # lock: a toast says so, bottom right, for seconds
        term.wait_for("Locked Cats")
        term.send(b"s")  # at once the start dialog, where that toast was
        screen = term.wait_for("Not now  esc/n", settle=0.3)
        assert "Start  ⏎/y" in screen and "Locked Cats" not in screen, screen
        term.send(ESC)  # (that a toast held meanwhile shows after: test_tui_dialog_base.py)
        term.wait_for(lambda s: "Not now" not in s)
