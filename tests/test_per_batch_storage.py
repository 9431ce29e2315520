"""Per-batch storage: a schema-1 database is migrated once and loses nothing; two batches'
writes never wait on each other; the index heals from the batch files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from batchtui.core.errors import StoreError
from batchtui.core.models import BatchConfig, BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.store.atomic import SCHEMA_VERSION

from .conftest import file_bytes
from .helpers import batch_file, edit_stored, stored_doc, wait_until

V1 = Path(__file__).parent / "data" / "v1-database.json"
"""Written by the single-file code (schema 1): COMPLETE batches with outputs, logs and retried
attempts, a FAILED one, a LOCKED one, DRAFTs (one empty), markup and emoji in names/items."""


def v1_docs() -> dict[str, dict]:
    data = json.loads(V1.read_text(encoding="utf-8"))
    assert next(iter(data["_meta"].values()))["schema"] == 1
    return {doc["id"]: doc for doc in data["batches"].values()}


@pytest.fixture
def old_db(db_path: Path) -> Path:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(V1, db_path)
    db_path.chmod(0o600)
    return db_path


ADDED_SINCE_V1 = (
    "retries",
    "backoff",
    "backoff_max",
    "retry_on",
    "max_failures",
    "canary",
    "variants",
    "confirm_forecast",
    "qa_loudness",
    "qa_tolerance",
)


def test_a_schema_1_database_is_migrated_and_every_batch_is_as_it_was(old_db, run_cli):
    before = v1_docs()
    repo = Repository(old_db)
    assert [s.id for s in repo.summaries()] == list(before)  # oldest first, as they were made
    for batch_id, doc in before.items():
        assert repo.get_raw(batch_id) == doc  # every field, item, output, attempt, log
        dumped = repo.get(batch_id).model_dump(mode="json", exclude_none=True)
        for added in ADDED_SINCE_V1:  # config fields newer than the old file: their defaults
            assert dumped["config"].pop(added, None) == BatchConfig.model_fields[added].get_default(
                call_default_factory=True
            )
        assert dumped == doc
    index = json.loads(old_db.read_text())
    assert next(iter(index["_meta"].values()))["schema"] == SCHEMA_VERSION
    assert {e["id"] for e in index["index"].values()} == set(before)
    assert not old_db.with_name(old_db.name + ".v1-backup").exists()  # verified, so removed
    ocean = next(d for d in before.values() if d["name"].startswith("Ocean"))
    assert [i["attempts"] for i in ocean["items"]] == [1, 2, 1, 2]  # the fixture has retries
    result = run_cli("show", ocean["id"][:6], "--json")
    shown = json.loads(result.out)
    assert [i["output_path"] for i in shown["items"]] == [i["output_path"] for i in ocean["items"]]


def test_migration_happens_once(old_db):
    Repository(old_db).summaries()
    migrated = file_bytes(old_db)
    assert Repository(old_db).summaries() and file_bytes(old_db) == migrated


def test_a_migration_that_fails_leaves_the_old_database_as_it_was(old_db, monkeypatch):
    original = old_db.read_bytes()

    def crash(self, entries):
        raise StoreError("disk full (simulated)")

    monkeypatch.setattr(Repository, "_write_index", crash)
    with pytest.raises(StoreError, match="simulated"):
        Repository(old_db).summaries()
    assert old_db.read_bytes() == original  # still schema 1, still whole
    monkeypatch.undo()
    repo = Repository(old_db)  # the next open migrates from scratch
    assert {s.id for s in repo.summaries()} == set(v1_docs())


def test_the_cli_works_on_an_old_database(old_db, run_cli):
    listed = run_cli("list")
    assert listed.code == 0
    for doc in v1_docs().values():
        assert doc["id"] in listed.out


HOLD = """
import sys
from filelock import FileLock
lock = FileLock(sys.argv[1]); lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


def hold(lock_path: Path) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def release(holder: subprocess.Popen) -> None:
    holder.stdin.close()
    holder.wait(timeout=10)


def quick_batch(service: BatchService, make_script, name: str, count: int = 4) -> str:
    script = make_script("ok.py", "import sys\nopen(sys.argv[1], 'w').write('ok')\n")
    batch = service.create(
        name, generator="command", command=f"{script} {{output}}", output_ext="txt"
    )
    service.add_items(batch.id, [f"{name} {n}" for n in range(count)])
    service.lock(batch.id)
    return batch.id


def test_a_run_never_waits_for_another_batchs_lock(db_path, make_script, monkeypatch):
    """Batch A's lock held by another process the whole time: batch B starts, runs and ends."""
    monkeypatch.setenv("BATCHTUI_LOCK_TIMEOUT", "0.5")
    service = BatchService(db_path, flush_interval=0.02)
    first = quick_batch(service, make_script, "First")
    second = quick_batch(service, make_script, "Second")
    holder = hold(db_path.parent / "batchtui.batches" / ".locks" / f"{first}.lock")
    try:
        ended = anyio.run(service.start, second)
        assert ended.status is BatchStatus.COMPLETE
    finally:
        release(holder)
    assert service.get(first).status is BatchStatus.LOCKED


def test_a_runs_progress_is_written_while_the_index_is_locked(db_path, make_script, tmp_path):
    """A run's flushes write its own file only: with the index locked by someone else, the
    items' progress still reaches the store (another process reads it there)."""
    gate = tmp_path / "go"
    script = make_script(
        "gated.py",
        f"""
        import os, sys, time
        if sys.argv[2] == "late":
            while not os.path.exists({str(gate)!r}):
                time.sleep(0.02)
        open(sys.argv[1], "w").write("ok")
        """,
    )
    service = BatchService(db_path, flush_interval=0.02)
    batch = service.create(
        "Busy index", generator="command", command=f"{script} {{output}} {{content}}",
        output_ext="txt", concurrency=1,
    )  # fmt: skip
    service.add_items(batch.id, ["early", "late"])
    service.lock(batch.id)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(service.start, batch.id)
            reader = Repository(db_path)
            await wait_until(lambda: reader.get(batch.id).status is BatchStatus.PROCESSING)
            holder = await anyio.to_thread.run_sync(hold, Path(str(db_path) + ".lock"))
            try:
                await wait_until(
                    lambda: reader.get(batch.id).items[0].status is ItemStatus.SUCCEEDED
                )
                assert reader.summaries()[0].succeeded == 1  # the list sees it too
            finally:
                gate.touch()
                await anyio.to_thread.run_sync(release, holder)

    anyio.run(main)
    assert service.get(batch.id).status is BatchStatus.COMPLETE


def test_the_index_heals_from_the_batch_files(db_path, service):
    """A writer killed between a batch file and the index (simulated: the index put back):
    readers believe the batch files."""
    made = service.create("Healing")
    stale_index = db_path.read_bytes()
    service.add_items(made.id, ["a", "b", "c"])
    service.rename(made.id, "Healed")
    db_path.write_bytes(stale_index)  # the index from before both changes
    fresh = Repository(db_path)
    (summary,) = fresh.summaries()
    assert (summary.name, summary.total) == ("Healed", 3)
    assert fresh.index() == [(made.id, "Healed")]
    batch_file(db_path, made.id).unlink()  # a batch file gone: so is the batch
    assert Repository(db_path).summaries() == []


def test_index_changes_go_to_a_journal_that_is_folded_in(db_path, monkeypatch):
    """Batches that appear or settle are appended to the index's journal (the index is not
    rewritten whole each time); past JOURNAL_MAX lines it is folded into the index."""
    import batchtui.store.index as index_module

    monkeypatch.setattr(index_module, "JOURNAL_MAX", 3)
    service = BatchService(db_path)
    first = service.create("First")  # a new database: the index is written whole
    assert not Repository(db_path).journal.exists()
    made = [service.create(f"More {n}") for n in range(3)]
    repo = Repository(db_path)
    assert len(repo.journal.read_text().split("\n")[1:]) == 3  # three appended lines
    assert [name for _, name in repo.index()] == ["First", "More 0", "More 1", "More 2"]
    service.create("Folded")  # the fourth line would pass the limit: folded in
    assert not repo.journal.exists()
    index = json.loads(db_path.read_text())
    assert {e["name"] for e in index["index"].values()} == {
        "First",
        "More 0",
        "More 1",
        "More 2",
        "Folded",
    }
    service.delete(made[0].id)
    assert Repository(db_path).index()[0] == (first.id, "First")
    assert "More 0" not in [name for _, name in Repository(db_path).index()]


def test_a_torn_journal_line_is_skipped(db_path):
    service = BatchService(db_path)
    service.create("First")
    second = service.create("Second")
    repo = Repository(db_path)
    with repo.journal.open("ab") as journal:
        journal.write(b'\n{"id": "abc123", "entry": {"na')  # a crash mid-append
    assert [name for _, name in Repository(db_path).index()] == ["First", "Second"]
    third = service.create("Third")  # the next append starts on a line of its own
    assert [bid for bid, _ in Repository(db_path).index()][1:] == [second.id, third.id]


def test_a_page_of_the_newest_parses_neither_the_index_nor_older_batch_files(db_path, monkeypatch):
    """`list` (the newest 30) at 5,000 batches cost 1.6x an empty database: it parsed the
    whole index and stat'ed every batch file. A page now reads the newest-page file."""
    from batchtui.store.batch_files import BatchFiles
    from batchtui.store.index import IndexFile

    service = BatchService(db_path)
    for n in range(8):
        service.create(f"Batch {n}")
    repo = Repository(db_path)

    def whole_index(self):
        raise AssertionError("the whole index was parsed")

    read: list[str] = []
    real_read = BatchFiles.read

    def read_batch(self, batch_id, stat=None):
        read.append(batch_id)
        return real_read(self, batch_id, stat)

    monkeypatch.setattr(IndexFile, "entries", whole_index)
    monkeypatch.setattr(BatchFiles, "read", read_batch)
    shown, total = repo.page(3)
    assert [s.name for s in shown] == ["Batch 5", "Batch 6", "Batch 7"] and total == 8
    assert read == []


def test_a_page_of_the_newest_agrees_with_the_full_list(db_path, monkeypatch):
    """Whatever happened behind the index's back, a page shows what the full list ends
    with, and counts what it counts."""
    import batchtui.store.newest as newest

    monkeypatch.setattr(newest, "NEWEST_KEEP", 4)  # a page of more falls back to the index
    service = BatchService(db_path)
    made = [service.create(f"Batch {n}") for n in range(8)]

    def agree(behind: int = 0) -> None:
        """`behind`: the newest pages that do not reach a batch broken behind batchtui's
        back, so count it as the index has it (a page checks only what it shows)."""
        full = Repository(db_path)
        everything = full.summaries()
        for n in range(8):
            repo = Repository(db_path)
            shown, total = repo.page(n)
            assert shown == (everything[-n:] if n else [])
            if n < behind:
                assert (total, repo.broken()) == (len(everything) + 1, [])
            else:
                assert (total, repo.broken()) == (len(everything), full.broken())

    agree()
    edit_stored(db_path, made[7].id, lambda doc: doc.update(name="Renamed"))  # index behind
    agree()
    batch_file(db_path, made[6].id).unlink()  # a file gone behind batchtui's back
    agree()
    copy = stored_doc(db_path, made[2].id) | {"id": "abcabcabcabc", "name": "Copied"}
    copy["created_at"] = "2099-01-01T00:00:00Z"  # a file the index does not know, newest
    batch_file(db_path, "abcabcabcabc").write_text(
        json.dumps({"batch": {"1": copy}, "_meta": {"1": {"app": "batchtui", "schema": 2}}})
    )
    agree()
    edit_stored(db_path, made[7].id, lambda doc: doc.update(status="NOT A STATUS"))  # broken
    agree(behind=2)  # the second newest: a page of 2 or more checks it
    service.delete(made[0].id)  # through batchtui: the newest page is written again
    agree(behind=2)
