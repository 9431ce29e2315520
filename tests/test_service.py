"""The service: every use-case and every refusal, on the fixtures' own database."""

from __future__ import annotations

import itertools
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batchtui.core.errors import AmbiguousError, NotFoundError, TransitionError, ValidationError
from batchtui.core.models import Batch, BatchStatus, ItemStatus
from batchtui.engine.liveness import process_token
from batchtui.generators import BUILTIN
from batchtui.generators.base import Context, Job
from batchtui.service import BatchService
from batchtui.service.validation import MAX_CONTENT_CHARS
from batchtui.store import Repository

from .conftest import file_bytes
from .fakes import FakeGenerator
from .helpers import force_status

FAKE = {"generator": "fake", "output_ext": "txt"}
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def new_batch(service: BatchService, name: str = "Space Facts", **fields: object) -> Batch:
    return service.create(name, **{**FAKE, **fields})


def ready(service: BatchService, contents: list[str], **fields: object) -> Batch:
    """A LOCKED fake batch with these items."""
    batch = new_batch(service, **fields)
    service.add_items(batch.id, contents)
    return service.lock(batch.id)


def ids_from(*ids: str) -> Callable[[], str]:
    """An id factory that hands out `ids` first, then predictable unique ones."""
    counter = itertools.count(1)
    queue = list(ids)

    def factory() -> str:
        return queue.pop(0) if queue else f"f{next(counter):011x}"

    return factory


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# -------------------------------------------------------------------------- create


def test_create_defaults(service: BatchService, fake_generator: type[FakeGenerator]) -> None:
    batch = new_batch(service)
    assert batch.status is BatchStatus.DRAFT
    assert batch.config.concurrency == 3
    assert batch.config.max_items == 10
    assert batch.items == []
    assert batch.config_hash is None and batch.locked_at is None
    assert len(batch.id) == 12
    int(batch.id, 16)
    assert service.get(batch.id).model_dump() == batch.model_dump()


def test_create_normalises_whitespace_in_name(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    assert new_batch(service, "  Space \t  Facts \n").name == "Space Facts"


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_create_blank_name_refused(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator], name: str
) -> None:
    with pytest.raises(ValidationError, match="blank"):
        new_batch(service, name)
    assert file_bytes(db_path) is None


def test_create_too_long_name_refused(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    with pytest.raises(ValidationError, match="too long"):
        new_batch(service, "x" * 201)
    assert new_batch(service, "x" * 200).name == "x" * 200


@pytest.mark.parametrize(
    ("name", "shown"),
    [("bad \udcff byte", "bad \\xff byte"), ("\ud800 lone", "\\ud800 lone")],
    ids=["undecodable-byte", "lone-surrogate"],
)
def test_a_name_that_is_not_utf8_text_is_refused_in_its_own_words(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator], name, shown
) -> None:
    """A byte from a command line and a lone surrogate from JSON alike (the second crashed)."""
    with pytest.raises(ValidationError) as refused:
        new_batch(service, name)
    assert str(refused.value) == f"batch name '{shown}' is not valid UTF-8 text"
    assert file_bytes(db_path) is None


def test_create_unknown_generator_refused(service: BatchService, db_path: Path) -> None:
    with pytest.raises(ValidationError, match="unknown generator 'nope'"):
        service.create("X", generator="nope")
    assert file_bytes(db_path) is None
    assert service.list_batches() == []


@pytest.mark.parametrize(
    "fields",
    [{"concurrency": 0}, {"concurrency": 65}, {"platform": "myspace"}, {"duration": -1}],
)
def test_create_invalid_config_refused(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator], fields: dict
) -> None:
    with pytest.raises(ValidationError, match="invalid config"):
        new_batch(service, **fields)
    assert file_bytes(db_path) is None


def test_create_with_explicit_settings(
    service: BatchService, fake_generator: type[FakeGenerator], tmp_path: Path
) -> None:
    batch = new_batch(
        service, platform="tiktok", duration=30, concurrency=5, max_items=50, output_dir="rel"
    )
    stored = service.get(batch.id)
    assert stored.config.platform == "tiktok"
    assert stored.config.duration == 30
    assert stored.config.concurrency == 5
    assert stored.config.max_items == 50
    assert stored.config.output_dir == str(tmp_path / "rel")


# ------------------------------------------------------------------ list / resolve


def test_list_oldest_first(fake_generator: type[FakeGenerator], repo: Repository) -> None:
    times = iter(T0 + timedelta(minutes=n) for n in range(100))
    service = BatchService(repo, clock=lambda: next(times))
    assert service.list_batches() == []
    names = ["One", "Two", "Three"]
    for name in names:
        new_batch(service, name)
    assert [b.name for b in service.list_batches()] == names


@pytest.fixture
def two_batches(
    repo: Repository, fake_generator: type[FakeGenerator]
) -> tuple[BatchService, Batch, Batch]:
    service = BatchService(repo, id_factory=ids_from("abc123000001", "abc456000002"))
    first = new_batch(service, "Ocean Facts")
    second = new_batch(service, "Space Facts")
    return service, first, second


def test_get_by_exact_id(two_batches) -> None:
    service, first, second = two_batches
    assert service.get("abc123000001").id == first.id
    assert service.get("  abc456000002  ").id == second.id


def test_get_by_unique_prefix(two_batches) -> None:
    service, first, second = two_batches
    assert service.get("abc1").id == first.id
    assert service.get("abc4").id == second.id
    assert service.get("ABC4").id == second.id


def test_get_by_name(two_batches) -> None:
    service, first, second = two_batches
    assert service.get("Ocean Facts").id == first.id
    assert service.get("space facts").id == second.id
    assert service.get("SPACE FACTS").id == second.id


def test_ambiguous_prefix(two_batches) -> None:
    service, first, second = two_batches
    with pytest.raises(AmbiguousError) as info:
        service.get("abc")
    message = str(info.value)
    assert first.id in message and second.id in message
    assert "2 batches" in message


def test_ambiguous_name(repo: Repository, fake_generator: type[FakeGenerator]) -> None:
    service = BatchService(repo)
    new_batch(service, "Twins")
    new_batch(service, "Twins")
    with pytest.raises(AmbiguousError):
        service.get("Twins")


def test_exact_name_beats_case_insensitive_match(
    repo: Repository, fake_generator: type[FakeGenerator]
) -> None:
    service = BatchService(repo)
    lower = new_batch(service, "facts")
    upper = new_batch(service, "FACTS")
    assert service.get("facts").id == lower.id
    assert service.get("FACTS").id == upper.id
    with pytest.raises(AmbiguousError):
        service.get("Facts")


@pytest.mark.parametrize("ref", ["zzz", "abc9", "Moon Facts", "abc123000001x"])
def test_not_found(two_batches, ref: str) -> None:
    service, _, _ = two_batches
    with pytest.raises(NotFoundError) as info:
        service.get(ref)
    assert ref in str(info.value)


@pytest.mark.parametrize("ref", ["", "   "])
def test_blank_ref_not_found(two_batches, ref: str) -> None:
    service, _, _ = two_batches
    with pytest.raises(NotFoundError, match="no batch given"):
        service.get(ref)


def test_mutations_resolve_refs_too(two_batches, db_path: Path) -> None:
    service, first, _ = two_batches
    before = file_bytes(db_path)
    with pytest.raises(AmbiguousError):
        service.add_items("abc", ["x"])
    with pytest.raises(NotFoundError):
        service.add_items("zzz", ["x"])
    assert file_bytes(db_path) == before
    service.add_items("ocean facts", ["x"])
    assert [it.content for it in service.get(first.id).items] == ["x"]


# -------------------------------------------------------------------------- delete


def test_delete(service: BatchService, fake_generator: type[FakeGenerator]) -> None:
    keep = new_batch(service, "Keep")
    gone = new_batch(service, "Gone")
    deleted = service.delete(gone.id)
    assert deleted.id == gone.id
    assert [b.id for b in service.list_batches()] == [keep.id]
    with pytest.raises(NotFoundError):
        service.get(gone.id)


def test_delete_refused_while_processing(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator]
) -> None:
    batch = ready(service, ["a"])
    service.begin(batch.id)
    assert service.get(batch.id).status is BatchStatus.PROCESSING
    before = file_bytes(db_path)
    with pytest.raises(TransitionError, match="PROCESSING"):
        service.delete(batch.id)
    with pytest.raises(TransitionError):
        service.delete(batch.id, remove_outputs=True)
    assert file_bytes(db_path) == before


@pytest.mark.anyio
async def test_delete_keeps_outputs_unless_asked(
    service: BatchService, fake_generator: type[FakeGenerator], anyio_backend: str
) -> None:
    kept = ready(service, ["alpha", "beta"], name="Kept")
    removed = ready(service, ["gamma"], name="Removed")
    await service.start(kept.id)
    await service.start(removed.id)
    kept_files = [Path(it.output_path) for it in service.outputs(kept.id)]
    removed_files = [Path(it.output_path) for it in service.outputs(removed.id)]
    assert len(kept_files) == 2 and len(removed_files) == 1
    assert all(p.exists() for p in kept_files + removed_files)

    service.delete(kept.id)
    assert all(p.read_text() in {"alpha", "beta"} for p in kept_files)

    service.delete(removed.id, remove_outputs=True)
    assert not any(p.exists() for p in removed_files)
    assert not removed_files[0].parent.exists()
    # the other batch's outputs are untouched
    assert all(p.exists() for p in kept_files)
    assert service.list_batches() == []


# ----------------------------------------------------------------------- add_items

TRICKY = [
    "two\nlines",
    "trailing newline\n",
    "  leading and trailing spaces  ",
    "'single' and \"double\" quotes",
    "$(id) `whoami` ; rm -rf / && echo $HOME",
    "[bold]x[/bold] [link=http://x]y[/link]",
    "\x1b[31mred\x1b[0m and \x1b]0;title\x07",
    "emoji 🚀👩‍🚀 and flags 🇫🇷",
    "RTL: שלום עולם مرحبا \u202eevil",
    "{content} {output} {{braces}}",
    "tab\tseparated\r\ncrlf",
]


def test_add_items_stores_content_exactly(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    batch = new_batch(service, max_items=len(TRICKY))
    added = service.add_items(batch.id, TRICKY)
    assert [it.content for it in added] == TRICKY
    stored = service.get(batch.id)
    assert [it.content for it in stored.items] == TRICKY
    assert [it.position for it in stored.items] == list(range(1, len(TRICKY) + 1))
    assert all(it.status is ItemStatus.PENDING and it.attempts == 0 for it in stored.items)
    assert len({it.id for it in stored.items}) == len(TRICKY)


def test_add_items_appends(service: BatchService, fake_generator: type[FakeGenerator]) -> None:
    batch = new_batch(service)
    service.add_items(batch.id, ["a", "b"])
    added = service.add_items(batch.id, ["c"])
    assert added[0].position == 3
    assert [it.content for it in service.get(batch.id).items] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("contents", "reason"),
    [
        ([""], "blank"),
        (["   "], "blank"),
        (["\t\n \r\n"], "blank"),
        (["\u3000"], "blank"),
        (["good", ""], "blank"),
        (["good", "  "], "blank"),
        (["nul\x00byte"], "NUL"),
        (["good", "nul\x00"], "NUL"),
        ([], "no items"),
        (["x" * (MAX_CONTENT_CHARS + 1)], "too long"),
        (["\ud800 lone surrogate"], "not valid text"),
    ],
)
def test_add_items_refuses_bad_content_and_adds_nothing(
    service: BatchService,
    db_path: Path,
    fake_generator: type[FakeGenerator],
    contents: list[str],
    reason: str,
) -> None:
    batch = new_batch(service)
    service.add_items(batch.id, ["existing"])
    before = file_bytes(db_path)
    with pytest.raises(ValidationError, match=reason):
        service.add_items(batch.id, contents)
    assert file_bytes(db_path) == before
    assert [it.content for it in service.get(batch.id).items] == ["existing"]


def test_add_items_over_max_is_all_or_nothing(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator]
) -> None:
    batch = new_batch(service, max_items=3)
    service.add_items(batch.id, ["1", "2"])
    before = file_bytes(db_path)
    with pytest.raises(ValidationError) as info:
        service.add_items(batch.id, ["3", "4"])
    assert "at most 3" in str(info.value)
    assert "1 more fit" in str(info.value)
    assert file_bytes(db_path) == before
    assert len(service.get(batch.id).items) == 2
    service.add_items(batch.id, ["3"])  # exactly at the limit is fine
    with pytest.raises(ValidationError):
        service.add_items(batch.id, ["4"])
    assert len(service.get(batch.id).items) == 3


def test_add_items_accepts_a_generator(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    batch = new_batch(service)
    service.add_items(batch.id, (f"topic {n}" for n in range(3)))
    assert len(service.get(batch.id).items) == 3


@pytest.mark.parametrize("state", ["LOCKED", "PROCESSING"])
def test_add_items_only_in_draft(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator], state: str
) -> None:
    batch = ready(service, ["a"])
    if state == "PROCESSING":
        service.begin(batch.id)
    before = file_bytes(db_path)
    with pytest.raises(TransitionError) as info:
        service.add_items(batch.id, ["b"])
    assert f"is {state}" in str(info.value)
    assert "'Space Facts'" in str(info.value)
    assert file_bytes(db_path) == before


# ------------------------------------------------------------ edit / remove / move


@pytest.fixture
def abcd(repo: Repository, fake_generator: type[FakeGenerator]) -> tuple[BatchService, Batch]:
    service = BatchService(
        repo,
        id_factory=ids_from(
            "b00000000000", "aaaa00000001", "bbbb00000002", "cccc00000003", "dddd00000004"
        ),
    )
    batch = new_batch(service)
    service.add_items(batch.id, ["A", "B", "C", "D"])
    return service, service.get(batch.id)


def contents(service: BatchService, batch: Batch) -> list[str]:
    stored = service.get(batch.id)
    assert [it.position for it in stored.items] == list(range(1, len(stored.items) + 1))
    return [it.content for it in stored.items]


def test_edit_item_by_position_and_prefix(abcd) -> None:
    service, batch = abcd
    edited = service.edit_item(batch.id, 2, "B2\nwith $(newline)")
    assert edited.id == "bbbb00000002"
    service.edit_item(batch.id, "cccc", "C2")
    service.edit_item(batch.id, "1", "A2")
    assert contents(service, batch) == ["A2", "B2\nwith $(newline)", "C2", "D"]
    # ids and statuses untouched
    assert [it.id for it in service.get(batch.id).items][1] == "bbbb00000002"


@pytest.mark.parametrize(
    ("ref", "error"),
    [(0, NotFoundError), (5, NotFoundError), ("zz", NotFoundError), ("", NotFoundError)],
)
def test_item_ref_not_found(abcd, db_path: Path, ref: object, error: type) -> None:
    service, batch = abcd
    before = file_bytes(db_path)
    with pytest.raises(error):
        service.edit_item(batch.id, ref, "x")
    with pytest.raises(error):
        service.remove_item(batch.id, ref)
    with pytest.raises(error):
        service.move_item(batch.id, ref, 1)
    assert file_bytes(db_path) == before


def test_item_ref_ambiguous(repo: Repository, fake_generator: type[FakeGenerator]) -> None:
    service = BatchService(
        repo, id_factory=ids_from("b00000000000", "eee000000001", "eee000000002")
    )
    batch = new_batch(service)
    service.add_items(batch.id, ["one", "two"])
    with pytest.raises(AmbiguousError):
        service.edit_item(batch.id, "eee", "x")
    with pytest.raises(AmbiguousError):
        service.remove_item(batch.id, "eee00000000")
    assert service.edit_item(batch.id, "eee000000001", "x").content == "x"
    assert service.remove_item(batch.id, "eee000000002").content == "two"


def test_edit_item_refuses_blank(abcd, db_path: Path) -> None:
    service, batch = abcd
    before = file_bytes(db_path)
    for bad in ["", "  ", "x\x00y"]:
        with pytest.raises(ValidationError):
            service.edit_item(batch.id, 1, bad)
    assert file_bytes(db_path) == before


def test_remove_item_renumbers(abcd) -> None:
    service, batch = abcd
    removed = service.remove_item(batch.id, 2)
    assert removed.content == "B"
    assert contents(service, batch) == ["A", "C", "D"]
    service.remove_item(batch.id, "dddd")
    assert contents(service, batch) == ["A", "C"]
    assert [it.id for it in service.get(batch.id).items] == ["aaaa00000001", "cccc00000003"]


@pytest.mark.parametrize(
    ("ref", "offset", "expected"),
    [
        (1, 1, ["B", "A", "C", "D"]),
        (4, -1, ["A", "B", "D", "C"]),
        (2, 2, ["A", "C", "D", "B"]),
        ("cccc", -2, ["C", "A", "B", "D"]),
        (1, 99, ["B", "C", "D", "A"]),
        (4, -99, ["D", "A", "B", "C"]),
        (1, -1, ["A", "B", "C", "D"]),
        (3, 0, ["A", "B", "C", "D"]),
    ],
)
def test_move_item(abcd, ref: object, offset: int, expected: list[str]) -> None:
    service, batch = abcd
    moved = service.move_item(batch.id, ref, offset)
    assert contents(service, batch) == expected
    assert moved.position == expected.index(moved.content) + 1


def test_item_edits_refused_when_locked(abcd, db_path: Path) -> None:
    service, batch = abcd
    service.lock(batch.id)
    before = file_bytes(db_path)
    for attempt in (
        lambda: service.edit_item(batch.id, 1, "new"),
        lambda: service.remove_item(batch.id, 1),
        lambda: service.move_item(batch.id, 1, 1),
        lambda: service.rename(batch.id, "New name"),
    ):
        with pytest.raises(TransitionError, match="is LOCKED"):
            attempt()
    assert file_bytes(db_path) == before


# ------------------------------------------------------------------- update_config


def test_update_config(service: BatchService, fake_generator: type[FakeGenerator]) -> None:
    batch = new_batch(service)
    updated = service.update_config(batch.id, duration=12.0, platform="tiktok", max_items=20)
    assert (updated.config.duration, updated.config.platform) == (12.0, "tiktok")
    stored = service.get(batch.id).config
    assert (stored.duration, stored.platform, stored.max_items) == (12.0, "tiktok", 20)
    assert stored.generator == "fake"  # untouched fields kept


def test_update_config_invalid_value_changes_nothing(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator]
) -> None:
    batch = new_batch(service)
    before = file_bytes(db_path)
    for bad in ({"concurrency": 0}, {"background": "nocolour"}, {"platform": "x"}):
        with pytest.raises(ValidationError, match="invalid config"):
            service.update_config(batch.id, **bad)
    with pytest.raises(ValidationError, match="unknown generator"):
        service.update_config(batch.id, generator="nope")
    assert file_bytes(db_path) == before


def test_update_config_max_items_below_count_refused(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator]
) -> None:
    batch = new_batch(service)
    service.add_items(batch.id, ["a", "b", "c"])
    before = file_bytes(db_path)
    with pytest.raises(ValidationError, match="below the 3 items"):
        service.update_config(batch.id, max_items=2)
    assert file_bytes(db_path) == before
    assert service.update_config(batch.id, max_items=3).config.max_items == 3


@pytest.mark.parametrize("state", ["LOCKED", "COMPLETE"])
def test_update_config_only_in_draft(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator], state: str
) -> None:
    batch = ready(service, ["a"])
    if state == "COMPLETE":
        with Repository(service.database_path).transaction() as tx:
            stored = tx.get(batch.id)
            force_status(stored, BatchStatus.COMPLETE)
            tx.save(stored)
    before = file_bytes(db_path)
    with pytest.raises(TransitionError, match=f"is {state}"):
        service.update_config(batch.id, duration=3.0)
    assert file_bytes(db_path) == before


# ---------------------------------------------------------------------------- lock


def test_lock(repo: Repository, fake_generator: type[FakeGenerator]) -> None:
    times = iter(T0 + timedelta(seconds=n) for n in range(100))
    service = BatchService(repo, clock=lambda: next(times))
    batch = new_batch(service)
    service.add_items(batch.id, ["a", "b"])
    locked = service.lock(batch.id)
    stored = service.get(batch.id)
    assert stored.status is BatchStatus.LOCKED is locked.status
    assert stored.config_hash == stored.config.fingerprint()
    assert stored.locked_at is not None and stored.locked_at > T0
    assert stored.locked_at <= stored.updated_at


@pytest.mark.anyio
async def test_checks_and_the_lock_create_no_folder_only_a_run_does(
    service: BatchService, fake_generator: type[FakeGenerator], tmp_path: Path
) -> None:
    """Reads never write: the lock's checks (which the TUI runs on opening a draft, and
    `config --output` runs) leave the disk as it was; the run makes the output folder."""
    target = tmp_path / "deep" / "er" / "outputs"
    batch = new_batch(service, output_dir=str(target))
    service.add_items(batch.id, ["a"])
    assert service.lock_problems(batch.id) == []
    service.update_config(batch.id, output_dir=str(target))
    service.lock(batch.id)
    assert not (tmp_path / "deep").exists()
    ran = await service.start(batch.id)
    assert ran.status is BatchStatus.COMPLETE and target.is_dir()


def test_an_output_folder_that_cannot_be_made_is_said_before_the_run(
    service: BatchService, fake_generator: type[FakeGenerator], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    batch = new_batch(service, output_dir=str(blocker / "outputs"))
    service.add_items(batch.id, ["a"])
    problems = [p.message for p in service.lock_problems(batch.id)]
    assert any(f"{blocker} is a file" in p for p in problems), problems
    assert blocker.read_text() == "not a folder"


def _command(tmpl: str) -> str:
    return tmpl.replace("PY", shlex.quote(sys.executable))


LOCK_PROBLEMS = {
    "no items": ({}, [], "has no items"),
    "command without output": (
        {"generator": "command", "command": _command("PY -c pass {content}")},
        ["a"],
        "{output}",
    ),
    "command missing": ({"generator": "command"}, ["a"], "needs a command template"),
    "unbalanced quotes": (
        {"generator": "command", "command": _command("PY -c 'pass {output}")},
        ["a"],
        "unbalanced quotes",
    ),
    "unknown placeholder": (
        {"generator": "command", "command": _command("PY -c pass {output} {1nope}")},
        ["a"],
        "unknown placeholder {1nope}",
    ),
    "an item lacks a variable": (
        {"generator": "command", "command": _command("PY -c pass {output} {nope}")},
        ["a"],
        "item 1 has no {nope}",
    ),
    "bad placeholder": (
        {"generator": "command", "command": _command("PY {output} {")},
        ["a"],
        "bad placeholder",
    ),
    "missing executable on PATH": (
        {"generator": "command", "command": "no-such-program-batchtui {output}"},
        ["a"],
        "not found on PATH",
    ),
    "missing executable path": (
        {"generator": "command", "command": "/no/such/program {output}"},
        ["a"],
        "executable not found",
    ),
    "placeholder executable": (
        {"generator": "command", "command": "{content} {output}"},
        ["a"],
        "cannot be a placeholder",
    ),
    "shorts too long": ({"platform": "youtube_shorts", "duration": 61}, ["a"], "limit of 60s"),
    "reels too long": ({"platform": "instagram_reels", "duration": 90.5}, ["a"], "limit of 90s"),
}


@pytest.mark.parametrize("case", sorted(LOCK_PROBLEMS))
def test_lock_refused(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator], case: str
) -> None:
    fields, items, reason = LOCK_PROBLEMS[case]
    batch = new_batch(service, **fields)
    if items:
        service.add_items(batch.id, items)
    before = file_bytes(db_path)
    with pytest.raises(ValidationError) as info:
        service.lock(batch.id)
    assert reason in str(info.value)
    assert "cannot lock 'Space Facts'" in str(info.value)
    assert file_bytes(db_path) == before
    stored = service.get(batch.id)
    assert stored.status is BatchStatus.DRAFT
    assert stored.config_hash is None and stored.locked_at is None


def test_lock_accepts_a_duration_at_the_limit(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    assert ready(service, ["a"], duration=60).status is BatchStatus.LOCKED


def test_lock_accepts_a_good_command(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    command = _command(
        "PY -c 'import sys; open(sys.argv[1], \"w\").write(sys.argv[2])' {output} {content}"
    )
    batch = ready(service, ["a"], generator="command", command=command)
    assert batch.status is BatchStatus.LOCKED


def test_lock_reports_every_problem(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    batch = new_batch(service, duration=61)
    with pytest.raises(ValidationError) as info:
        service.lock(batch.id)
    assert len(info.value.problems) == 2
    assert "has no items" in str(info.value) and "limit of 60s" in str(info.value)


def test_lock_unknown_generator(
    service: BatchService,
    db_path: Path,
    fake_generator: type[FakeGenerator],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = new_batch(service)
    service.add_items(batch.id, ["a"])
    monkeypatch.delitem(BUILTIN, "fake")  # the plugin went away after create
    before = file_bytes(db_path)
    with pytest.raises(ValidationError, match="unknown generator 'fake'"):
        service.lock(batch.id)
    assert file_bytes(db_path) == before


def test_lock_output_folder_is_a_file(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator], tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    batch = new_batch(service, output_dir=str(blocker))
    service.add_items(batch.id, ["a"])
    before = file_bytes(db_path)
    with pytest.raises(ValidationError, match="is a file, not a folder"):
        service.lock(batch.id)
    assert file_bytes(db_path) == before
    assert blocker.read_text() == "x"


def test_lock_output_folder_below_a_file(
    service: BatchService, fake_generator: type[FakeGenerator], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    batch = new_batch(service, output_dir=str(blocker / "sub"))
    service.add_items(batch.id, ["a"])
    with pytest.raises(ValidationError, match="cannot be created"):
        service.lock(batch.id)


@pytest.mark.parametrize("state", ["LOCKED", "PROCESSING"])
def test_lock_refused_unless_draft(
    service: BatchService, fake_generator: type[FakeGenerator], state: str
) -> None:
    batch = ready(service, ["a"])
    if state == "PROCESSING":
        service.begin(batch.id)
    with pytest.raises(TransitionError, match=f"is {state}"):
        service.lock(batch.id)


def test_unlock(service: BatchService, fake_generator: type[FakeGenerator]) -> None:
    batch = ready(service, ["a"])
    unlocked = service.unlock(batch.id)
    stored = service.get(batch.id)
    assert unlocked.status is stored.status is BatchStatus.DRAFT
    assert stored.config_hash is None and stored.locked_at is None
    service.add_items(batch.id, ["b"])  # editable again
    assert len(service.get(batch.id).items) == 2


def test_unlock_a_draft_refused(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator]
) -> None:
    batch = new_batch(service)
    before = file_bytes(db_path)
    with pytest.raises(TransitionError, match="unlocking needs LOCKED"):
        service.unlock(batch.id)
    assert file_bytes(db_path) == before


# ------------------------------------------------------- start / retry / cancel refusals


def test_start_a_draft_refused(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator]
) -> None:
    batch = new_batch(service)
    service.add_items(batch.id, ["a"])
    before = file_bytes(db_path)
    with pytest.raises(TransitionError, match="starting needs LOCKED"):
        service.begin(batch.id)
    assert file_bytes(db_path) == before


@pytest.mark.anyio
async def test_start_a_draft_refused_async(
    service: BatchService, fake_generator: type[FakeGenerator], anyio_backend: str
) -> None:
    batch = new_batch(service)
    service.add_items(batch.id, ["a"])
    with pytest.raises(TransitionError):
        await service.start(batch.id)
    assert fake_generator.calls == []


def test_start_refused_when_config_changed_behind_the_lock(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator]
) -> None:
    batch = ready(service, ["a"])
    with Repository(service.database_path).transaction() as tx:
        stored = tx.get(batch.id)
        stored.config.duration = 9.0
        tx.save(stored)
    before = file_bytes(db_path)
    with pytest.raises(ValidationError, match="config changed since it was locked"):
        service.begin(batch.id)
    assert file_bytes(db_path) == before


def test_retry_a_locked_batch_refused(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator]
) -> None:
    batch = ready(service, ["a"])
    before = file_bytes(db_path)
    with pytest.raises(TransitionError, match="retrying needs PARTIAL or FAILED"):
        service.begin(batch.id, retry=True)
    assert file_bytes(db_path) == before


@pytest.mark.anyio
async def test_retry_a_complete_batch_refused(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator], anyio_backend: str
) -> None:
    batch = ready(service, ["a", "b"])
    ended = await service.start(batch.id)
    assert ended.status is BatchStatus.COMPLETE
    before = file_bytes(db_path)
    with pytest.raises(TransitionError, match="is COMPLETE"):
        await service.retry(batch.id)
    with pytest.raises(TransitionError):
        await service.start(batch.id)
    assert file_bytes(db_path) == before
    assert fake_generator.calls == ["a", "b"]


@pytest.mark.parametrize("state", ["DRAFT", "LOCKED"])
def test_cancel_refused_unless_processing(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator], state: str
) -> None:
    batch = ready(service, ["a"]) if state == "LOCKED" else new_batch(service)
    before = file_bytes(db_path)
    with pytest.raises(TransitionError, match="cancelling needs PROCESSING"):
        service.cancel(batch.id)
    assert file_bytes(db_path) == before
    assert service.get(batch.id).cancel_requested is False


def test_cancel_a_processing_batch_records_the_request(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    batch = ready(service, ["a"])
    service.begin(batch.id)
    service.cancel(batch.id)
    assert service.get(batch.id).cancel_requested is True


@pytest.mark.parametrize("value", [0, -1, 65, 1000])
def test_set_concurrency_bounds(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator], value: int
) -> None:
    batch = new_batch(service)
    before = file_bytes(db_path)
    with pytest.raises(ValidationError, match="between 1 and 64"):
        service.set_concurrency(batch.id, value)
    assert file_bytes(db_path) == before


@pytest.mark.parametrize("value", [1, 64])
def test_set_concurrency_accepts_bounds(
    service: BatchService, fake_generator: type[FakeGenerator], value: int
) -> None:
    batch = new_batch(service)
    assert service.set_concurrency(batch.id, value).config.concurrency == value
    assert service.get(batch.id).config.concurrency == value


def test_set_concurrency_on_locked_keeps_the_lock_valid(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    batch = ready(service, ["a"])
    service.set_concurrency(batch.id, 7)
    stored = service.get(batch.id)
    assert stored.status is BatchStatus.LOCKED
    assert stored.config_hash == stored.config.fingerprint()
    assert service.begin(batch.id).status is BatchStatus.PROCESSING


@pytest.mark.anyio
async def test_set_concurrency_refused_when_ended(
    service: BatchService, fake_generator: type[FakeGenerator], anyio_backend: str
) -> None:
    batch = ready(service, ["a"])
    await service.start(batch.id)
    with pytest.raises(TransitionError, match="changing concurrency"):
        service.set_concurrency(batch.id, 2)


# ---------------------------------------------------------------------------- runs


@pytest.mark.anyio
async def test_start_completes(
    service: BatchService, fake_generator: type[FakeGenerator], anyio_backend: str
) -> None:
    batch = ready(service, ["alpha", "beta", "gamma"])
    ended = await service.start(batch.id)
    assert ended.status is BatchStatus.COMPLETE
    stored = service.get(batch.id)
    assert stored.status is BatchStatus.COMPLETE
    assert stored.runner is None and stored.finished_at is not None
    assert all(it.status is ItemStatus.SUCCEEDED for it in stored.items)
    assert all(it.attempts == 1 and it.progress == 1.0 for it in stored.items)
    assert sorted(fake_generator.calls) == ["alpha", "beta", "gamma"]
    outputs = service.outputs(batch.id)
    assert [Path(it.output_path).read_text() for it in outputs] == ["alpha", "beta", "gamma"]
    assert service.failed(batch.id) == []
    progress = service.progress(batch.id)
    assert (progress.percent, progress.succeeded, progress.eta) == (100.0, 3, 0.0)
    assert not service.is_running_here(batch.id)


@pytest.mark.anyio
async def test_partial_run_lists_failures(
    service: BatchService, fake_generator: type[FakeGenerator], anyio_backend: str
) -> None:
    batch = ready(service, ["ok one", "FAIL two", "ok three", "FAIL four", "BOOM five"])
    ended = await service.start(batch.id)
    assert ended.status is BatchStatus.PARTIAL
    stored = service.get(batch.id)
    assert stored.status is BatchStatus.PARTIAL
    failed = service.failed(batch.id)
    assert [it.content for it in failed] == ["FAIL two", "FAIL four", "BOOM five"]
    assert all(it.status is ItemStatus.FAILED and it.error for it in failed)
    assert "refused: FAIL two" in failed[0].error
    assert "RuntimeError" in failed[2].error
    outputs = service.outputs(batch.id)
    assert [it.content for it in outputs] == ["ok one", "ok three"]
    assert all(Path(it.output_path).exists() for it in outputs)
    assert all(it.output_path is None for it in failed)


@pytest.mark.anyio
async def test_all_failing_run_is_failed(
    service: BatchService, fake_generator: type[FakeGenerator], anyio_backend: str
) -> None:
    batch = ready(service, ["FAIL a", "FAIL b"])
    ended = await service.start(batch.id)
    assert ended.status is BatchStatus.FAILED
    assert service.outputs(batch.id) == []
    assert len(service.failed(batch.id)) == 2


@pytest.mark.anyio
async def test_retry_reruns_only_what_failed(
    service: BatchService,
    fake_generator: type[FakeGenerator],
    monkeypatch: pytest.MonkeyPatch,
    anyio_backend: str,
) -> None:
    batch = ready(service, ["ok one", "FAIL two", "ok three", "FAIL four"])
    await service.start(batch.id)
    first = service.get(batch.id)
    assert first.status is BatchStatus.PARTIAL
    good_before = {it.id: it for it in first.items if it.status is ItemStatus.SUCCEEDED}
    assert len(good_before) == 2

    # the content cannot change after lock: make the generator forgiving instead
    with pytest.raises(TransitionError):
        service.edit_item(batch.id, 2, "fixed")

    async def forgiving(self: FakeGenerator, job: Job, ctx: Context) -> None:
        type(self).calls.append(job.content)
        job.output.write_text("fixed: " + job.content)

    monkeypatch.setattr(FakeGenerator, "generate", forgiving)
    fake_generator.calls = []
    ended = await service.retry(batch.id)

    assert ended.status is BatchStatus.COMPLETE
    assert sorted(fake_generator.calls) == ["FAIL four", "FAIL two"]
    after = service.get(batch.id)
    assert after.status is BatchStatus.COMPLETE
    for it in after.items:
        assert it.status is ItemStatus.SUCCEEDED
        if it.id in good_before:
            assert it.attempts == 1
            assert it.finished_at == good_before[it.id].finished_at
            assert it.output_path == good_before[it.id].output_path
            assert Path(it.output_path).read_text() == it.content
        else:
            assert it.attempts == 2
            assert it.error is None
            assert Path(it.output_path).read_text() == "fixed: " + it.content
    assert service.failed(batch.id) == []
    assert len(service.outputs(batch.id)) == 4
    # the config hash still matches the locked config
    assert after.config_hash == after.config.fingerprint()


@pytest.mark.anyio
async def test_retry_that_fails_again_stays_partial(
    service: BatchService, fake_generator: type[FakeGenerator], anyio_backend: str
) -> None:
    batch = ready(service, ["ok", "FAIL"])
    await service.start(batch.id)
    ended = await service.retry(batch.id)
    assert ended.status is BatchStatus.PARTIAL
    failed = service.failed(batch.id)
    assert [(it.content, it.attempts) for it in failed] == [("FAIL", 2)]


@pytest.mark.anyio
async def test_listener_sees_events(
    service: BatchService, fake_generator: type[FakeGenerator], anyio_backend: str
) -> None:
    seen: list[str] = []
    batch = ready(service, ["a"])
    await service.start(batch.id, lambda event, b: seen.append(type(event).__name__))
    assert seen[0] == "ItemStarted"
    assert seen[-1] == "ItemFinished"


# -------------------------------------------------------------------- orphan recovery


def _orphan(service: BatchService, batch_id: str, pid: int, statuses: list[ItemStatus]) -> None:
    service.begin(batch_id)
    with Repository(service.database_path).transaction() as tx:
        batch = tx.get(batch_id)
        batch.runner.pid = pid
        batch.runner.token = process_token(pid)  # the start token that goes with that pid
        for it, status in zip(batch.items, statuses, strict=True):
            force_status(it, status)
            if status is ItemStatus.SUCCEEDED:
                it.output_path = "/x"
                it.finished_at = T0
        tx.save(batch)


def test_recover_orphans_dead_runner_failed(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    batch = ready(service, ["a"])
    _orphan(service, batch.id, dead_pid(), [ItemStatus.RUNNING])
    recovered = service.recover_orphans()
    assert [b.id for b in recovered] == [batch.id]
    stored = service.get(batch.id)
    assert stored.status is BatchStatus.FAILED
    assert stored.runner is None and stored.finished_at is not None
    assert stored.items[0].status is ItemStatus.INTERRUPTED
    assert "runner stopped" in stored.items[0].error
    assert [it.id for it in service.failed(batch.id)] == [stored.items[0].id]
    # and it can be retried
    assert service.begin(batch.id, retry=True).status is BatchStatus.PROCESSING


def test_recover_orphans_dead_runner_partial(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    batch = ready(service, ["a", "b", "c"])
    _orphan(
        service,
        batch.id,
        dead_pid(),
        [ItemStatus.SUCCEEDED, ItemStatus.RUNNING, ItemStatus.FAILED],
    )
    service.recover_orphans()
    stored = service.get(batch.id)
    assert stored.status is BatchStatus.PARTIAL
    assert [it.status for it in stored.items] == [
        ItemStatus.SUCCEEDED,
        ItemStatus.INTERRUPTED,
        ItemStatus.FAILED,
    ]


def test_recover_orphans_leaves_live_runners_alone(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator]
) -> None:
    batch = ready(service, ["a"])
    parent = os.getppid()  # alive, same host, not us
    _orphan(service, batch.id, parent, [ItemStatus.RUNNING])
    before = file_bytes(db_path)
    assert service.recover_orphans() == []
    assert service.get(batch.id).status is BatchStatus.PROCESSING
    assert file_bytes(db_path) == before


def test_recover_orphans_stale_heartbeat(
    repo: Repository, fake_generator: type[FakeGenerator]
) -> None:
    """A stale heartbeat ends a run owned on another host; on this host the process table is
    the truth: a live runner (suspended, say) keeps its run whatever its heartbeat says."""
    service = BatchService(repo)
    batch = ready(service, ["a"])
    _orphan(service, batch.id, os.getppid(), [ItemStatus.RUNNING])
    later = BatchService(repo, clock=lambda: datetime.now(UTC) + timedelta(minutes=10))
    assert later.recover_orphans() == []
    assert service.get(batch.id).status is BatchStatus.PROCESSING
    with Repository(service.database_path).transaction() as tx:
        stored = tx.get(batch.id)
        stored.runner.host = "another-render-box"
        tx.save(stored)
    assert [b.id for b in later.recover_orphans()] == [batch.id]
    assert service.get(batch.id).status is BatchStatus.FAILED


def test_recover_orphans_is_run_by_begin(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    orphan = ready(service, ["a"], name="Orphan")
    _orphan(service, orphan.id, dead_pid(), [ItemStatus.RUNNING])
    other = ready(service, ["b"], name="Other")
    service.begin(other.id)
    assert service.get(orphan.id).status is BatchStatus.FAILED


def test_recover_orphans_ends_every_item(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    batch = ready(service, ["a", "b", "c"])
    _orphan(
        service,
        batch.id,
        dead_pid(),
        [ItemStatus.SUCCEEDED, ItemStatus.RUNNING, ItemStatus.PENDING],
    )
    service.recover_orphans()
    stored = service.get(batch.id)
    assert stored.status is BatchStatus.PARTIAL
    # an ended batch has no PENDING items (RunRecorder.finish makes them CANCELLED)
    assert stored.items[2].status is ItemStatus.CANCELLED
    assert len(service.failed(batch.id)) == 2
    assert service.progress(batch.id).percent == 33.3  # one of three succeeded


def test_stored_json_is_plain(
    service: BatchService, db_path: Path, fake_generator: type[FakeGenerator]
) -> None:
    batch = new_batch(service)
    service.add_items(batch.id, TRICKY[:3])
    batch_file = db_path.parent / "batchtui.batches" / f"{batch.id}.json"
    data = json.loads(batch_file.read_text(encoding="utf-8"))
    (doc,) = data["batch"].values()
    assert doc["id"] == batch.id
    assert [it["content"] for it in doc["items"]] == TRICKY[:3]
