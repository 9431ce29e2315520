"""The repository: round trips, file modes, atomic transactions, refusing foreign files."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from batchtui.core.errors import BusyError, StoreError
from batchtui.core.models import Batch, BatchConfig, BatchItem, BatchStatus, ItemStatus, RunnerInfo
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.store.atomic import SCHEMA_VERSION

from .conftest import file_bytes
from .helpers import batch_file, edit_stored, stored_doc

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def sample_batch(batch_id: str = "a1b2c3d4e5f6", name: str = "Space Facts") -> Batch:
    return Batch(
        id=batch_id,
        name=name,
        status=BatchStatus.PARTIAL,
        config=BatchConfig(generator="fake", output_ext="txt", duration=7.5, concurrency=2),
        items=[
            BatchItem(
                id="111111111111",
                position=1,
                content="line one\nline two «quoted» 🚀 $(id)",
                status=ItemStatus.SUCCEEDED,
                attempts=1,
                started_at=T0,
                finished_at=T0,
                progress=1.0,
                output_path="/out/01-line-one.txt",
            ),
            BatchItem(
                id="222222222222",
                position=2,
                content="FAIL this one",
                status=ItemStatus.FAILED,
                error="refused",
                attempts=2,
            ),
        ],
        created_at=T0,
        updated_at=T0,
        locked_at=T0,
        started_at=T0,
        finished_at=T0,
        config_hash="0123456789abcdef",
        runner=RunnerInfo(pid=123, host="box", started_at=T0, heartbeat=T0),
    )


def save(repo: Repository, batch: Batch) -> None:
    with repo.transaction() as tx:
        tx.save(batch)


# ---------------------------------------------------------------------- round trip


def test_round_trip(repo: Repository) -> None:
    batch = sample_batch()
    save(repo, batch)
    loaded = repo.get(batch.id)
    assert loaded is not None
    assert loaded.model_dump() == batch.model_dump()
    assert loaded.items[0].content == "line one\nline two «quoted» 🚀 $(id)"
    assert loaded.created_at.tzinfo is not None


def test_round_trip_inside_a_transaction(repo: Repository) -> None:
    batch = sample_batch()
    save(repo, batch)
    with repo.transaction() as tx:
        assert [b.model_dump() for b in tx.all()] == [batch.model_dump()]
        got = tx.get(batch.id)
        assert got is not None and got.model_dump() == batch.model_dump()
        assert tx.get("nope") is None


def test_missing_file_reads_as_empty_and_is_not_created(repo: Repository, db_path: Path) -> None:
    assert repo.all() == []
    assert repo.get("anything") is None
    assert not repo.exists()
    assert not db_path.exists()


def test_save_replaces_by_id_and_delete_removes(repo: Repository) -> None:
    batch = sample_batch()
    save(repo, batch)
    batch.name = "Renamed"
    save(repo, batch)
    assert [b.name for b in repo.all()] == ["Renamed"]
    with repo.transaction() as tx:
        tx.delete(batch.id)
    assert repo.all() == []
    assert repo.get(batch.id) is None


def test_all_is_sorted_oldest_first(repo: Repository) -> None:
    newer = sample_batch("bbbbbbbbbbbb", "Newer")
    newer.created_at = datetime(2025, 1, 1, tzinfo=UTC)
    older = sample_batch("aaaaaaaaaaaa", "Older")
    older.created_at = datetime(2023, 1, 1, tzinfo=UTC)
    save(repo, newer)
    save(repo, older)
    assert [b.name for b in repo.all()] == ["Older", "Newer"]


def test_file_is_batchtui_tagged_json(repo: Repository, db_path: Path) -> None:
    save(repo, sample_batch())
    data = json.loads(db_path.read_text(encoding="utf-8"))
    meta = next(iter(data["_meta"].values()))
    assert meta == {"app": "batchtui", "schema": SCHEMA_VERSION}
    (entry,) = data["index"].values()
    assert entry["id"] == "a1b2c3d4e5f6" and entry["status"] == "PARTIAL"
    # Each batch is a TinyDB document file of its own: TinyDB itself opens it.
    from tinydb import TinyDB

    with TinyDB(batch_file(db_path, "a1b2c3d4e5f6"), access_mode="r") as db:
        (doc,) = db.table("batch").all()
        assert doc["id"] == "a1b2c3d4e5f6" and len(doc["items"]) == len(sample_batch().items)


def test_files_are_written_as_json_writes_them_and_read_back_whatever_json_reads(
    tmp_path: Path,
) -> None:
    from batchtui.store.atomic import read_database_file, write_database_file

    path = tmp_path / "doc.json"
    data = {"t": {"1": {"text": "«quoted» 🚀 \u2028", "n": 1e16, "f": 0.1, "none": None}}}
    write_database_file(path, dict(data))
    expected = dict(data, _meta={"1": {"app": "batchtui", "schema": SCHEMA_VERSION}})
    assert path.read_bytes() == json.dumps(
        expected, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    # What the fast parser refuses but json accepts (as an older writer may have left it)
    # still reads: NaN and integers beyond 64 bits.
    odd = dict(expected, t={"1": {"nan": float("nan"), "big": 2**70}})
    path.write_text(json.dumps(odd), encoding="utf-8")
    back = read_database_file(path)
    assert back is not None and back["t"]["1"]["big"] == 2**70
    assert back["t"]["1"]["nan"] != back["t"]["1"]["nan"]
    write_database_file(path, {"t": {"1": {"big": 2**70}}})  # written by json instead
    assert read_database_file(path)["t"]["1"]["big"] == 2**70


# ------------------------------------------------------------------ modes / folders


def test_file_mode_is_0600(repo: Repository, db_path: Path) -> None:
    save(repo, sample_batch())
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_rewrite_resets_a_loose_mode_to_0600(repo: Repository, db_path: Path) -> None:
    save(repo, sample_batch())
    db_path.chmod(0o644)
    batch_file(db_path, "a1b2c3d4e5f6").chmod(0o644)
    save(repo, sample_batch("cccccccccccc", "Other"))  # recorded in the index's journal
    save(repo, sample_batch())  # the batch file replaced
    for written in (repo.journal, batch_file(db_path, "a1b2c3d4e5f6")):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
    repo._write_index(repo._index_entries())  # the index written whole again
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_missing_data_folder_is_created_0700(repo: Repository, db_path: Path) -> None:
    assert not db_path.parent.exists()
    save(repo, sample_batch())
    assert db_path.parent.is_dir()
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700


def test_no_temp_files_are_left_behind(repo: Repository, db_path: Path) -> None:
    save(repo, sample_batch())
    save(repo, sample_batch("dddddddddddd", "Two"))
    leftovers = [p.name for p in db_path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_data_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    repo = Repository(blocker / "db.json")
    with pytest.raises(StoreError) as info:
        save(repo, sample_batch())
    assert str(blocker) in str(info.value)
    assert blocker.read_text() == "not a folder"


def test_database_path_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "db.json"
    folder.mkdir()
    with pytest.raises(StoreError) as info:
        Repository(folder).all()
    assert str(folder) in str(info.value)


def test_relative_path_is_made_absolute(tmp_path: Path) -> None:
    repo = Repository("rel/db.json")
    assert repo.path == tmp_path / "rel" / "db.json"


# -------------------------------------------------------------------- transactions


def test_transaction_that_raises_changes_nothing(repo: Repository, db_path: Path) -> None:
    save(repo, sample_batch())
    before = file_bytes(db_path)
    with pytest.raises(RuntimeError), repo.transaction() as tx:
        tx.save(sample_batch("eeeeeeeeeeee", "Never saved"))
        tx.delete("a1b2c3d4e5f6")
        raise RuntimeError("boom")
    assert file_bytes(db_path) == before
    assert [b.id for b in repo.all()] == ["a1b2c3d4e5f6"]


def test_transaction_that_raises_on_a_new_database_creates_no_file(
    repo: Repository, db_path: Path
) -> None:
    with pytest.raises(RuntimeError), repo.transaction() as tx:
        tx.save(sample_batch())
        raise RuntimeError("boom")
    assert file_bytes(db_path) is None


def test_read_only_transaction_does_not_rewrite(repo: Repository, db_path: Path) -> None:
    save(repo, sample_batch())
    before = db_path.stat()
    with repo.transaction() as tx:
        tx.all()
        tx.get("a1b2c3d4e5f6")
    after = db_path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_lock_is_released_after_a_failed_transaction(repo: Repository, db_path: Path) -> None:
    with pytest.raises(RuntimeError), repo.transaction():
        raise RuntimeError("boom")
    other = Repository(db_path, lock_timeout=0.5)
    save(other, sample_batch())
    assert repo.get("a1b2c3d4e5f6") is not None


def test_a_held_batch_lock_makes_writers_of_that_batch_busy_only(
    repo: Repository, db_path: Path
) -> None:
    save(repo, sample_batch())
    other = Repository(db_path, lock_timeout=0.05)
    with repo.transaction() as tx:
        held = tx.get("a1b2c3d4e5f6")
        with pytest.raises(BusyError) as info:
            save(other, sample_batch("a1b2c3d4e5f6", "Blocked"))
        assert str(db_path) in str(info.value) and "a1b2c3d4e5f6" in str(info.value)
        save(other, sample_batch("ffffffffffff", "Elsewhere"))  # another batch: no wait
        tx.save(held)
    assert sorted(b.name for b in repo.all()) == ["Elsewhere", "Space Facts"]


def test_a_held_index_lock_refuses_a_new_batch_and_writes_nothing(
    repo: Repository, db_path: Path
) -> None:
    from filelock import FileLock

    save(repo, sample_batch())
    before = file_bytes(db_path)
    other = Repository(db_path, lock_timeout=0.05)
    with FileLock(str(db_path) + ".lock"), pytest.raises(BusyError):
        save(other, sample_batch("ffffffffffff", "New"))
    assert file_bytes(db_path) == before
    assert not batch_file(db_path, "ffffffffffff").exists()


def test_two_repositories_see_each_others_writes(db_path: Path) -> None:
    first, second = Repository(db_path), Repository(db_path)
    assert second.all() == []
    save(first, sample_batch())
    seen = second.get("a1b2c3d4e5f6")
    assert seen is not None and seen.name == "Space Facts"

    with second.transaction() as tx:
        batch = tx.get("a1b2c3d4e5f6")
        assert batch is not None
        batch.name = "Changed elsewhere"
        tx.save(batch)
    assert [b.name for b in first.all()] == ["Changed elsewhere"]

    with first.transaction() as tx:
        tx.delete("a1b2c3d4e5f6")
    assert second.all() == []


def test_two_services_see_each_others_writes(db_path: Path) -> None:
    one = BatchService(Repository(db_path))
    two = BatchService(Repository(db_path))
    made = one.create("Shared", generator="titlecard")
    assert two.get(made.id).name == "Shared"
    two.rename(made.id, "Renamed")
    assert one.get(made.id).name == "Renamed"


# --------------------------------------------------------------- refusing to read


def _schema_99(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    for meta in data["_meta"].values():
        meta["schema"] = 99
    path.write_text(json.dumps(data), encoding="utf-8")


def _foreign(content: bytes):
    def write(path: Path) -> None:
        path.write_bytes(content)

    return write


BAD_FILES = {
    "empty": _foreign(b""),
    "whitespace": _foreign(b"  \n\n "),
    "truncated": None,  # built from a real file below
    "not-json": _foreign(b"hello, this is a text file\n"),
    "binary": _foreign(b"\xff\xfe\x00garbage"),
    "tinydb-default": _foreign(b'{"_default": {}}'),
    "json-list": _foreign(b"[1, 2, 3]"),
    "json-string": _foreign(b'"batchtui"'),
    "meta-not-ours": _foreign(b'{"_meta": {"1": {"app": "other", "schema": 1}}, "batches": {}}'),
    "meta-empty": _foreign(b'{"_meta": {}, "batches": {}}'),
    "schema-99": _schema_99,
    "schema-not-int": _foreign(b'{"_meta": {"1": {"app": "batchtui", "schema": "1"}}}'),
}


def _truncate(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


@pytest.fixture(params=sorted(BAD_FILES))
def bad_db(request: pytest.FixtureRequest, service: BatchService, db_path: Path) -> Path:
    """A database file batchtui must refuse, made from a real one where that matters."""
    made = service.create("Real", generator="titlecard")
    service.add_items(made.id, ["one", "two"])
    spoil = _truncate if request.param == "truncated" else BAD_FILES[request.param]
    spoil(db_path)
    return db_path


def test_refuses_unreadable_files_on_read(bad_db: Path, repo: Repository) -> None:
    before = file_bytes(bad_db)
    for read in (repo.all, repo.summaries, repo.index):
        with pytest.raises(StoreError) as info:
            read()
        assert str(bad_db) in str(info.value)
        assert "\n" not in str(info.value)
    assert file_bytes(bad_db) == before


def test_refuses_unreadable_files_and_never_overwrites_them(
    bad_db: Path, service: BatchService
) -> None:
    before = file_bytes(bad_db)
    with pytest.raises(StoreError) as info:
        service.create("Would overwrite", generator="titlecard")
    assert str(bad_db) in str(info.value)
    with pytest.raises(StoreError):
        service.list_batches()
    # Finding dead runs reads only the running markers, never the index: every command asks,
    # and a command on one batch should not cost a parse of the whole history's index.
    assert service.recover_orphans() == []
    assert file_bytes(bad_db) == before
    # and no temporary file was left beside it
    assert [p.name for p in bad_db.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_refuses_transaction_without_writing(bad_db: Path, repo: Repository) -> None:
    before = file_bytes(bad_db)
    with pytest.raises(StoreError), repo.transaction() as tx:
        tx.save(sample_batch())
    assert file_bytes(bad_db) == before


def test_newer_schema_message_says_upgrade(service: BatchService, db_path: Path) -> None:
    service.create("Real", generator="titlecard")
    _schema_99(db_path)
    with pytest.raises(StoreError) as info:
        service.list_batches()
    assert "99" in str(info.value)
    assert "upgrade" in str(info.value)


def test_unreadable_file_is_reported_not_crashed(service: BatchService, db_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can read anything")
    service.create("Real", generator="titlecard")
    db_path.chmod(0)
    try:
        with pytest.raises(StoreError) as info:
            service.list_batches()
        assert "permission denied" in str(info.value)
    finally:
        db_path.chmod(0o600)


def _mixed_batch(batch_id: str, states: list[ItemStatus]) -> Batch:
    items = [
        BatchItem(
            id=f"{batch_id[:6]}{n:06d}",
            position=n + 1,
            content=f"topic {n}",
            status=state,
            progress=0.4
            if state is ItemStatus.RUNNING
            else (1.0 if state is ItemStatus.SUCCEEDED else 0.0),
        )
        for n, state in enumerate(states)
    ]
    return Batch(
        id=batch_id,
        name=f"batch {batch_id}",
        status=BatchStatus.PROCESSING if ItemStatus.RUNNING in states else BatchStatus.PARTIAL,
        config=BatchConfig(generator="fake", output_ext="txt", platform="tiktok"),
        items=items,
        created_at=T0,
        updated_at=T0,
    )


def test_summaries_read_raw_agree_with_the_models(db_path):
    repo = Repository(db_path)
    batches = [
        _mixed_batch("aaaaaaaaaaaa", []),
        _mixed_batch("bbbbbbbbbbbb", list(ItemStatus)),
        _mixed_batch("cccccccccccc", [ItemStatus.SUCCEEDED] * 3 + [ItemStatus.RUNNING] * 2),
    ]
    with repo.transaction() as tx:
        for batch in batches:
            tx.save(batch)
    from batchtui.core.summary import BatchSummary

    raw = {s.id: s for s in repo.summaries()}
    for batch in batches:
        expected = BatchSummary.of(batch)
        assert raw[batch.id] == expected
        assert expected.percent == batch.progress(T0).percent
        assert expected.succeeded == batch.progress(T0).succeeded


def test_one_malformed_batch_does_not_hide_the_list(db_path):
    repo = Repository(db_path)
    with repo.transaction() as tx:
        tx.save(sample_batch())
        doc = sample_batch("ffffffffffff").model_dump(mode="json")
        doc["items"][0]["status"] = "EXPLODED"
        tx.save_raw(doc)
    assert [s.id for s in repo.summaries()] == ["a1b2c3d4e5f6", "ffffffffffff"]
    with pytest.raises(StoreError, match="EXPLODED"):
        repo.get("ffffffffffff")  # opening it says what is wrong
    edit_stored(db_path, "ffffffffffff", lambda doc: doc.pop("name"))
    # A batch that cannot even be listed is left out of the list, and named apart.
    assert [s.id for s in repo.summaries()] == ["a1b2c3d4e5f6"]
    assert [bid for bid, _ in repo.broken()] == ["ffffffffffff"]
    with pytest.raises(StoreError, match=r"ffffffffffff is malformed .*name: Field required"):
        repo.get("ffffffffffff")


def test_reads_see_every_write_despite_the_parse_cache(db_path, fake_generator):
    repo = Repository(db_path)
    service = BatchService(repo)
    first = service.create("One", generator="fake", output_ext="txt")
    assert [s.name for s in repo.summaries()] == ["One"]
    assert repo.summaries()[0] == repo.summaries()[0]  # same version: served from the cache
    other = BatchService(Repository(db_path))  # another process, in effect
    other.add_items(first.id, ["a", "b"])
    other.create("Two", generator="fake", output_ext="txt")
    assert [(s.name, s.total) for s in repo.summaries()] == [("One", 2), ("Two", 0)]
    assert [b.name for b in repo.all()] == ["One", "Two"]


def test_a_field_set_back_to_none_leaves_the_stored_document(db_path):
    """Stored documents omit null fields, so saving must replace a document, not merge it."""
    repo = Repository(db_path)
    batch = sample_batch()
    batch.runner = RunnerInfo(pid=4242, host="render-box", started_at=T0, heartbeat=T0)
    batch.items[0].error = "an old reason"
    with repo.transaction() as tx:
        tx.save(batch)
    batch.runner = None
    batch.items[0].error = None
    with repo.transaction() as tx:
        tx.save(batch)
    doc = stored_doc(db_path, batch.id)
    assert "runner" not in doc and "error" not in doc["items"][0]
    stored = repo.get(batch.id)
    assert stored.runner is None and stored.items[0].error is None
    assert stored == batch


def test_commands_on_one_batch_do_not_validate_the_others(db_path, fake_generator):
    """Resolving a reference reads (id, name) pairs; only the batch it names is validated,
    so one broken batch does not stop work on the others (and 1,000 batches are not
    validated to show one)."""
    repo = Repository(db_path)
    service = BatchService(repo)
    good = service.create("Good", generator="fake", output_ext="txt")
    broken = service.create("Broken", generator="fake", output_ext="txt")
    edit_stored(db_path, broken.id, lambda doc: doc.update(status="EXPLODED"))

    service.add_items("good", ["a", "b"])  # by name, in a transaction
    service.lock(good.id[:6])  # by id prefix
    assert service.get("Good").status is BatchStatus.LOCKED
    with pytest.raises(StoreError, match="EXPLODED"):
        service.get("Broken")  # the broken one still says what is wrong
    with pytest.raises(StoreError, match="EXPLODED"):
        service.lock("Broken")
    assert service.get(good.id).items[1].content == "b"
    edit_stored(db_path, broken.id, lambda doc: doc.pop("name"))
    with pytest.raises(StoreError, match="name"):
        service.get(broken.id)  # nameless, but its id still finds it, to say why
    assert service.get("good").id == good.id


# ------------------------------------------------------------- the TinyDB storage


def test_tinydb_table_over_the_atomic_storage_writes_once_per_flush(tmp_path: Path) -> None:
    """TinyDB's Table reads and writes through AtomicStorage: many operations, one write,
    in TinyDB's layout (with our `_meta` table), read back by TinyDB's own JSONStorage."""
    from tinydb import TinyDB

    from batchtui.store.storage import flush, open_database

    path = tmp_path / "t.json"
    db = open_database(path)
    table = db.table("things")
    table.insert({"n": 1})
    table.insert_multiple([{"n": 2}, {"n": 3}])
    table.remove(doc_ids=[2])
    assert not path.exists()  # nothing is written before the flush
    flush(db)
    assert json.loads(path.read_bytes()) == {
        "things": {"1": {"n": 1}, "3": {"n": 3}},
        "_meta": {"1": {"app": "batchtui", "schema": SCHEMA_VERSION}},
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = open_database(path).table("things")
    assert [(doc.doc_id, doc["n"]) for doc in again] == [(1, 1), (3, 3)]
    with TinyDB(path, access_mode="r") as plain:
        assert [doc["n"] for doc in plain.table("things").all()] == [1, 3]


def test_the_storage_refuses_to_write_without_its_lock(tmp_path: Path) -> None:
    from filelock import FileLock

    from batchtui.store.storage import flush, open_database

    path = tmp_path / "t.json"
    lock = FileLock(str(tmp_path / "t.json.lock"))
    db = open_database(path, lock=lock)
    db.table("things").insert({"n": 1})
    with pytest.raises(RuntimeError, match="without holding"):
        flush(db)
    assert not path.exists()
    with lock:
        flush(db)
    assert json.loads(path.read_bytes())["things"] == {"1": {"n": 1}}


def test_batch_files_are_written_as_before(repo: Repository) -> None:
    """Through TinyDB the batch file holds the same bytes the hand-written code wrote."""
    batch = sample_batch()
    save(repo, batch)
    doc = stored_doc_of(batch)
    written = repo.batches.path(batch.id).read_bytes()
    assert written == json.dumps(
        {"batch": {"1": doc}, "_meta": {"1": {"app": "batchtui", "schema": SCHEMA_VERSION}}},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


def stored_doc_of(batch: Batch) -> dict:
    from batchtui.store.documents import stored_form

    return stored_form(batch)


_CRASH_WRITER = """
import os, sys
from pathlib import Path
from batchtui.store.storage import flush, open_database

path, when = Path(sys.argv[1]), sys.argv[2]
real_replace = os.replace

def crashing_replace(src, dst):
    if when == "before":
        os._exit(9)  # killed with the new version fsynced in its temp file, not yet renamed
    real_replace(src, dst)
    os._exit(9)  # killed right after the rename

os.replace = crashing_replace
db = open_database(path)
db.table("things").insert({"text": "new " * 10_000})
flush(db)
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_writer_killed_around_the_rename_leaves_the_old_or_the_new_file(
    tmp_path: Path, when: str
) -> None:
    import subprocess
    import sys

    from batchtui.store.storage import flush, open_database

    path = tmp_path / "t.json"
    db = open_database(path)
    db.table("things").insert({"text": "old"})
    flush(db)
    old = path.read_bytes()
    done = subprocess.run([sys.executable, "-c", _CRASH_WRITER, str(path), when], check=False)
    assert done.returncode == 9
    texts = [doc["text"] for doc in open_database(path).table("things")]
    if when == "before":
        assert path.read_bytes() == old and texts == ["old"]
        assert list(tmp_path.glob(".t.json.*.tmp"))  # the killed writer's temp file
    else:
        assert texts == ["old", "new " * 10_000]
    db = open_database(path)
    db.table("things").insert({"text": "next"})
    flush(db)  # the next writer tidies what a killed one left
    assert not list(tmp_path.glob(".t.json.*.tmp"))
    assert [doc["text"] for doc in open_database(path).table("things")][-1] == "next"


_ADDER = """
import sys
from batchtui.service import BatchService

service = BatchService(sys.argv[1])
service.set_lock_timeout(60)
for n in range(int(sys.argv[3])):
    service.add_items(sys.argv[2], [f"{sys.argv[4]} {n}"])
"""


def test_two_processes_adding_items_lose_nothing(db_path: Path) -> None:
    """Each add is a read-modify-write of the batch file under the batch's lock: two
    processes adding at once wait for each other, and every item is kept."""
    import subprocess
    import sys

    made = BatchService(db_path).create("Shared", max_items=200)
    each = 15
    adders = [
        subprocess.Popen([sys.executable, "-c", _ADDER, str(db_path), made.id, str(each), who])
        for who in ("left", "right")
    ]
    assert [adder.wait(timeout=120) for adder in adders] == [0, 0]
    contents = [item.content for item in Repository(db_path).get(made.id).items]
    assert len(contents) == 2 * each
    assert {c for c in contents if c.startswith("left")} == {f"left {n}" for n in range(each)}
    assert {c for c in contents if c.startswith("right")} == {f"right {n}" for n in range(each)}


@pytest.mark.parametrize("schema", ['"2"', '"abc"', "null", "[2]", "2.5", "true", "0", "-3"])
def test_a_schema_that_is_no_version_number_is_called_malformed(
    service: BatchService, db_path: Path, schema: str
) -> None:
    """Not "newer than this batchtui, upgrade": a malformed file is called malformed."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    raw = f'{{"_meta": {{"1": {{"app": "batchtui", "schema": {schema}}}}}}}'.encode()
    db_path.write_bytes(raw)
    with pytest.raises(StoreError) as refused:
        service.summaries()
    assert "malformed" in str(refused.value) and "upgrade" not in str(refused.value)
    assert db_path.read_bytes() == raw
