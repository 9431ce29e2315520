"""Every rule is enforced where it is stated: statuses change only through the transition
tables, and the one actions table decides what the service, the CLI and the TUI (footer and
command palette) allow for every batch status."""

from __future__ import annotations

import ast
import itertools
import os
import socket
from pathlib import Path

import pytest

import batchtui
from batchtui.core.actions import ACTIONS, actions_for
from batchtui.core.errors import TransitionError
from batchtui.core.models import (
    BATCH_TRANSITIONS,
    ITEM_TRANSITIONS,
    Batch,
    BatchConfig,
    BatchItem,
    BatchStatus,
    ItemStatus,
    RunnerInfo,
    utcnow,
)
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.batch_list import BatchListScreen
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.screens.progress import ProgressScreen

from .conftest import file_bytes
from .tui_support import make_app

PACKAGE = Path(batchtui.__file__).parent


# ------------------------------------------------------------------ transitions


@pytest.mark.parametrize(("old", "new"), list(itertools.product(BatchStatus, BatchStatus)))
def test_a_batch_status_changes_only_as_the_table_allows(old, new):
    batch = Batch(id="b1", name="b", status=old, config=BatchConfig())
    if new is old or new in BATCH_TRANSITIONS[old]:
        batch.status = new
        assert batch.status is new
    else:
        with pytest.raises(TransitionError, match=f"a {old.value} batch cannot become"):
            batch.status = new
        with pytest.raises(TransitionError):
            batch.move_to(new)
        assert batch.status is old  # a refused move changes nothing


@pytest.mark.parametrize(("old", "new"), list(itertools.product(ItemStatus, ItemStatus)))
def test_an_item_status_changes_only_as_the_table_allows(old, new):
    item = BatchItem(id="i1", position=1, content="x", status=old)
    if new is old or new in ITEM_TRANSITIONS[old]:
        item.move_to(new)
        assert item.status is new
    else:
        with pytest.raises(TransitionError, match=f"a {old.value} item cannot become"):
            item.status = new
        assert item.status is old


def _status_writes(tree: ast.AST) -> list[int]:
    """Lines that set a status other than by assignment to `.status` (which the models
    check): through __dict__, object.__setattr__, or model_copy(update={"status": ...})."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
            key = node.slice
            if node.value.attr == "__dict__" and isinstance(key, ast.Constant):
                lines.extend([node.lineno] if key.value == "status" else [])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            args = [a for a in node.args if isinstance(a, ast.Constant)]
            # (super().__setattr__ in the models' guard is the checked path itself.)
            named = any(a.value == "status" for a in args)
            if (
                node.func.attr == "__setattr__"
                and named
                and not isinstance(node.func.value, ast.Call)
            ):
                lines.append(node.lineno)
            if node.func.attr == "model_copy":
                for keyword in node.keywords:
                    if keyword.arg == "update" and isinstance(keyword.value, ast.Dict):
                        keys = [k.value for k in keyword.value.keys if isinstance(k, ast.Constant)]
                        if "status" in keys:
                            lines.append(node.lineno)
    return lines


def test_no_code_sets_a_status_around_the_table():
    bypasses = {}
    assignments = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        if found := _status_writes(tree):
            bypasses[str(path.relative_to(PACKAGE))] = found
        movers = {
            id(inner)
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef) and fn.name == "move_to"
            for inner in ast.walk(fn)
        }
        for node in ast.walk(tree):
            if id(node) in movers:
                continue
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and target.attr == "status":
                        assignments.setdefault(str(path.relative_to(PACKAGE)), []).append(
                            node.lineno
                        )
    assert bypasses == {}
    # Plain `.status = ...` assignments are checked by the models; production code says
    # `move_to` instead, so a reader sees each move is one.
    assert assignments == {}


# --------------------------------------------------------- one table, every door

EXPECTED = {
    BatchStatus.DRAFT: {"edit", "lock", "delete", "concurrency", "priority", "announce"},
    BatchStatus.LOCKED: {"unlock", "start", "delete", "concurrency", "priority", "announce"},
    BatchStatus.PROCESSING: {
        *("cancel", "concurrency", "priority", "pause", "resume", "announce", "confirm"),
        "review",
    },
    BatchStatus.COMPLETE: {"rerun", "delete", "priority", "announce", "review"},
    # `resume` of an ended batch is a retry (and drops a pause kept from a crashed run).
    BatchStatus.PARTIAL: {"retry", "rerun", "delete", "priority", "resume", "announce", "review"},
    BatchStatus.FAILED: {"retry", "rerun", "delete", "unlock", "priority", "resume", "announce"},
}
"""What a user may do in each state, written out once more by hand: the table must say it."""


def test_the_actions_table_says_what_the_lifecycle_means():
    assert {status: set(actions_for(status)) for status in BatchStatus} == EXPECTED
    assert set(ACTIONS) == set().union(*EXPECTED.values())


def _item_status(status: BatchStatus) -> ItemStatus:
    return {
        BatchStatus.COMPLETE: ItemStatus.SUCCEEDED,
        BatchStatus.PARTIAL: ItemStatus.FAILED,
        BatchStatus.FAILED: ItemStatus.FAILED,
        BatchStatus.PROCESSING: ItemStatus.RUNNING,
    }.get(status, ItemStatus.PENDING)


def stored_batch(
    db_path: Path,
    status: BatchStatus,
    script: Path,
    *,
    paused: bool = False,
    awaiting: bool = False,
    reviewing: bool = False,
) -> str:
    """A batch in `status` as a real lifecycle would leave it (two items; in PARTIAL one
    succeeded), owned by this process when PROCESSING (`paused`: its run paused, and its
    runner obeying)."""
    now = utcnow()
    config = BatchConfig(generator="command", command=f"{script} {{output}}", output_ext="txt")
    items = [
        BatchItem(id="item0000001", position=1, content="one", status=_item_status(status)),
        BatchItem(id="item0000002", position=2, content="two", status=_item_status(status)),
    ]
    if status is BatchStatus.PARTIAL or (reviewing and status is BatchStatus.PROCESSING):
        # (`reviewing`: a running batch whose first item has already succeeded)
        items[0] = BatchItem(
            id="item0000001", position=1, content="one", status=ItemStatus.SUCCEEDED
        )
    for item in items:
        if item.status is ItemStatus.SUCCEEDED:
            item.output_path = f"/nonexistent/{item.position}.txt"
    batch = Batch(id=f"batch{status.value.lower():0>7}"[:12], name=status.value, config=config)
    batch = Batch(
        id=batch.id,
        name=batch.name,
        status=status,
        config=config,
        items=items,
        config_hash=None if status is BatchStatus.DRAFT else config.fingerprint(),
        runner=RunnerInfo(
            pid=os.getppid(), host=socket.gethostname(), started_at=now, heartbeat=now
        )
        if status is BatchStatus.PROCESSING
        else None,
        paused="drain" if paused else None,
        holding="drain" if paused and status is BatchStatus.PROCESSING else None,
        awaiting_confirm=True if awaiting and status is BatchStatus.PROCESSING else None,
    )
    with Repository(db_path).transaction() as tx:
        tx.save(batch)
    return batch.id


CLI_VERBS = {
    "edit": ["edit", "{id}", "1", "changed"],
    "lock": ["lock", "{id}"],
    "unlock": ["unlock", "{id}"],
    "start": ["start", "{id}"],
    "retry": ["retry", "{id}"],
    "rerun": ["retry", "{id}", "--item", "1"],
    "cancel": ["cancel", "{id}"],
    "delete": ["delete", "{id}"],
    "concurrency": ["concurrency", "{id}", "2"],
    "priority": ["priority", "{id}", "2"],
    "pause": ["pause", "{id}"],
    "resume": ["resume", "{id}"],
    "announce": ["config", "{id}", "--events", "ended"],
    "confirm": ["confirm", "{id}"],
    "review": ["review", "{id}", "1", "approve"],
}


@pytest.fixture
def quick_script(make_script) -> Path:
    return make_script("ok.py", "import sys\nopen(sys.argv[1], 'w').write('ok')\n")


@pytest.mark.parametrize("status", list(BatchStatus))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_the_cli_refuses_exactly_what_the_table_forbids(
    run_cli, db_path, quick_script, status, action
):
    # A run is resumed once paused (resuming one that runs freely is refused: test_pause).
    batch_id = stored_batch(
        db_path,
        status,
        quick_script,
        paused=action == "resume",
        awaiting=action == "confirm",
        reviewing=action == "review",
    )
    before = file_bytes(db_path)
    result = run_cli(*[part.format(id=batch_id) for part in CLI_VERBS[action]])
    refused = result.code == 2  # a refusal; an allowed action here succeeds (or ends a run)
    assert refused == (action not in EXPECTED[status]), result.err
    if refused:
        assert file_bytes(db_path) == before  # nothing changed
        assert result.err.count("\n") == 1


SERVICE_CALLS = {
    "edit": lambda s, ref: s.edit_item(ref, 1, "changed"),
    "lock": lambda s, ref: s.lock(ref),
    "unlock": lambda s, ref: s.unlock(ref),
    "start": lambda s, ref: s.begin(ref),
    "retry": lambda s, ref: s.begin(ref, retry=True),
    "rerun": lambda s, ref: s.begin(ref, retry=True, only=[1]),
    "cancel": lambda s, ref: s.cancel(ref),
    "delete": lambda s, ref: s.delete(ref),
    "concurrency": lambda s, ref: s.set_concurrency(ref, 2),
    "priority": lambda s, ref: s.set_priority(ref, 2),
    "pause": lambda s, ref: s.pause(ref),
    "resume": lambda s, ref: s.resume(ref),
    "announce": lambda s, ref: s.update_config(ref, events=["ended"]),
    "confirm": lambda s, ref: s.confirm(ref),
    "review": lambda s, ref: s.review(ref, [1], "reject", "too dark"),
}


@pytest.mark.parametrize("status", list(BatchStatus))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_the_service_refuses_exactly_what_the_table_forbids(db_path, quick_script, status, action):
    batch_id = stored_batch(
        db_path,
        status,
        quick_script,
        paused=action == "resume",
        awaiting=action == "confirm",
        reviewing=action == "review",
    )
    service = BatchService(db_path)
    try:
        SERVICE_CALLS[action](service, batch_id)
    except TransitionError:
        refused = True
    else:
        refused = False
    assert refused == (action not in EXPECTED[status])


# Which batch actions each key stands for, per screen, written out by hand.
LIST_KEYS = {
    "lock": {"lock", "unlock"},
    "unlock_failed": {"unlock"},
    "start": {"start"},
    "retry": {"retry"},
    "cancel": {"cancel"},
    "delete": {"delete"},
}
PROGRESS_KEYS = {
    "retry": {"retry"},
    "cancel": {"cancel"},
    "concurrency": {"concurrency"},
    "rerun_item": {"rerun"},
    "toggle_pause": {"pause"},
}
EDITOR_KEYS = {
    "add": {"edit"},
    "edit": {"edit"},
    "remove": {"edit"},
    "move": {"edit"},
    "import": {"edit"},
    "lock": {"lock"},
    "unlock": {"unlock"},
    "start": {"start"},
}


def _offered(app, keys: dict[str, set[str]]) -> tuple[set[str], set[str]]:
    """The key actions the footer shows and the palette offers, among `keys`."""
    footer = {
        active.binding.action.split("(")[0]
        for active in app.screen.active_bindings.values()
        if active.binding.show
    }
    palette = set()
    for command in app.get_system_commands(app.screen):
        for binding in app.screen.BINDINGS:
            if command.title in (binding.description, f"{binding.description}: {binding.tooltip}"):
                palette.add(binding.action.split("(")[0])
    return footer & set(keys), palette & set(keys)


@pytest.mark.anyio
@pytest.mark.parametrize("status", list(BatchStatus))
async def test_the_tui_offers_exactly_what_the_table_allows(db_path, quick_script, status):
    batch_id = stored_batch(db_path, status, quick_script)
    app = make_app(BatchService(db_path), poll_interval=60)
    screens: list[tuple[type, dict[str, set[str]]]] = [(BatchListScreen, LIST_KEYS)]
    if status in (BatchStatus.DRAFT, BatchStatus.LOCKED):
        screens.append((ItemEditorScreen, EDITOR_KEYS))
    else:
        screens.append((ProgressScreen, PROGRESS_KEYS))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for screen_type, keys in screens:
            if screen_type is not BatchListScreen:
                app.open_batch(batch_id)
                await pilot.pause()
            assert isinstance(app.screen, screen_type)
            expected = {key for key, needs in keys.items() if needs & EXPECTED[status]}
            if screen_type is BatchListScreen:  # `l` is one action or the other, by state
                expected.discard("unlock_failed" if status is not BatchStatus.FAILED else "lock")
            footer, palette = _offered(app, keys)
            # Keys kept out of the footer (show=False, for room) are still in the palette.
            in_footer = {b.action.split("(")[0] for b in app.screen.BINDINGS if b.show}
            assert footer == expected & in_footer, screen_type.__name__
            assert palette == expected, screen_type.__name__
