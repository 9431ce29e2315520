"""The review loop's use cases: a verdict on outputs, the approved ones handed on (listed, or
exported as hard links with their manifest lines), and the file moves of a retake."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import StoreError, ValidationError
from ..core.models import Batch, BatchItem
from ..core.models.review import Review
from ..core.review import (
    VERDICT_WORDS,
    Verdict,
    begin_take,
    check_note,
    review_state,
    reviewable_problem,
)
from ..core.textsafe import one_line
from ..generators.base import SIDECARS, sidecar
from .context import ServiceContext
from .refs import resolve_items
from .remake import MANIFEST_NAME


def verdict_of(word: str | Verdict) -> Verdict:
    """`approve`/`reject` (or `approved`/`rejected`) as a verdict; one line otherwise."""
    if isinstance(word, Verdict):
        return word
    text = str(word).strip().lower()
    if text in VERDICT_WORDS:
        return VERDICT_WORDS[text]
    try:
        return Verdict(text)
    except ValueError:
        raise ValidationError(
            f"a review is 'approve' or 'reject', not {one_line(str(word), 40)!r}"
        ) from None


def keep_take(item: BatchItem) -> list[tuple[str, str]]:
    """Move a rejected item's output (and its poster) aside as its kept take, and make the
    item its next take (`core.review.begin_take`); the moves made, (from, to), for
    `put_back`. A kept name that is taken already is never overwritten (ValidationError;
    StoreError when a move fails)."""
    source, kept = begin_take(item)
    moves = [(source, kept)]
    moves += [
        (str(sidecar(Path(source), s)), str(sidecar(Path(kept), s)))
        for s in SIDECARS
        if sidecar(Path(source), s).is_file()
    ]
    done: list[tuple[str, str]] = []
    for old, new in moves:
        if not os.path.exists(old):
            if old == source:  # the output itself went missing: nothing to keep
                item.takes[-1].gone = True  # type: ignore[index]
            continue
        try:
            if os.path.lexists(new):  # never written over: someone's file
                put_back(done)
                raise ValidationError(
                    f"cannot keep {old} as {new}: that name is taken (not written over); "
                    "move it away, then retry --rejected"
                )
            os.rename(old, new)
        except OSError as exc:
            put_back(done)
            raise StoreError(f"cannot keep {old} as {new}: {exc.strerror or exc}") from None
        done.append((old, new))
    return done


def put_back(moves: list[tuple[str, str]]) -> None:
    """Undo `keep_take`'s moves (a start refused after them): each file back where it was."""
    for old, new in reversed(moves):
        with contextlib.suppress(OSError):
            if not os.path.lexists(old):
                os.rename(new, old)
    moves.clear()


@dataclass(frozen=True)
class Exported:
    """What `export` handed on."""

    folder: Path
    files: list[Path]
    linked: int
    """How many were hard links (the rest were copies: another file system)."""
    manifest: Path


class Reviewing:
    """Approving and rejecting outputs, and handing the approved ones on."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def review(
        self,
        ref: str,
        items: Collection[str | int],
        verdict: str | Verdict,
        note: str | None = None,
    ) -> list[BatchItem]:
        """Approve or reject the outputs of `items` (positions, keys, ids, variants: as
        `retry --item`), with an optional one-line note; the items as reviewed. Approving a
        later take lets its kept, rejected takes go (their files are deleted). Allowed mid-run
        for items that have succeeded."""
        chosen_verdict = verdict_of(verdict)
        text = check_note(note)
        if not items:
            raise ValidationError("name at least one item to review")
        let_go: list[str] = []

        def change(batch: Batch) -> list[BatchItem]:
            chosen = resolve_items(batch, items)  # (an unknown item: NotFoundError)
            problems = [p for p in (reviewable_problem(item) for item in chosen) if p]
            if problems:
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                raise ValidationError(f"{problems[0]}{more}")
            now = self.ctx.clock()
            for item in chosen:
                item.review = Review(
                    verdict=chosen_verdict, note=text, at=now, output=item.output_path
                )
                if chosen_verdict is Verdict.APPROVED:
                    for take in item.takes or ():
                        if not take.gone:
                            take.gone = True
                            let_go.append(take.output)
            batch.updated_at = now
            return [item.model_copy(deep=True) for item in chosen]

        reviewed: list[BatchItem] = self.ctx.mutate(ref, "review", change)
        for path in let_go:  # after the write: a refused review deletes nothing
            names: list[Path] = [Path(path), *(sidecar(Path(path), s) for s in SIDECARS)]
            for name in names:
                with contextlib.suppress(OSError):
                    os.unlink(name)
        return reviewed

    def approved(self, ref: str) -> list[BatchItem]:
        """The items whose output is approved, in order."""
        return [item for item in self.ctx.find(ref).items if review_state(item) == "approved"]

    def export(self, ref: str, folder: str | Path, *, approved_only: bool = True) -> Exported:
        """Hand a batch's outputs (the approved ones, or every output) to `folder`: hard links
        where the file system allows, copies otherwise, with their posters and a
        `manifest.jsonl` of their manifest lines. A file already there is never overwritten
        (refused, one line, nothing written)."""
        batch = self.ctx.find(ref)
        chosen = [
            item
            for item in batch.items
            if (review_state(item) == "approved" if approved_only else review_state(item))
        ]
        if not chosen:
            what = "approved output" if approved_only else "output"
            raise ValidationError(f"batch '{batch.name}' has no {what} to export")
        if not str(folder).strip():
            raise ValidationError("give the folder to export into")
        target = Path(folder).expanduser()
        if target.exists() and not target.is_dir():
            raise ValidationError(f"{target} is a file, not a folder")
        plan: list[tuple[Path, Path]] = []
        for item in chosen:
            assert item.output_path is not None
            source = Path(item.output_path)
            if not source.is_file():
                raise ValidationError(f"item {item.label}'s output {source} is gone")
            plan.append((source, target / source.name))
            for suffix in SIDECARS:
                extra = sidecar(source, suffix)
                if extra.is_file():
                    plan.append((extra, target / extra.name))
        manifest = target / MANIFEST_NAME
        # lexists: a link there, even one to nothing, is a name taken (never written through)
        clash = [dest for _, dest in plan if os.path.lexists(dest)]
        if os.path.lexists(manifest):
            clash.append(manifest)
        if clash:
            raise ValidationError(
                f"{clash[0]} exists already: export into an empty folder (or a new one)"
            )
        lines = list(_manifest_lines(self.ctx, batch, chosen))
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot make {target}: {exc.strerror or exc}") from None
        done: list[Path] = []
        linked = 0
        try:
            for source, dest in plan:
                try:
                    os.link(source, dest)
                    linked += 1
                except OSError as exc:
                    if exc.errno not in _NO_LINK:  # a name taken since the check: never over
                        raise
                    _copy_new(source, dest)  # another file system, or links refused
                done.append(dest)
            # Created, never replaced: a name taken since the check is an error.
            with open(manifest, "x", encoding="utf-8") as handle:
                done.append(manifest)
                handle.write("".join(json.dumps(line) + "\n" for line in lines))
        except OSError as exc:
            for path in done:  # nothing half-written: what was placed goes again
                with contextlib.suppress(OSError):
                    path.unlink()
            raise StoreError(f"cannot export to {target}: {exc.strerror or exc}") from None
        outputs = [dest for (source, dest) in plan if not source.name.endswith(SIDECARS)]
        return Exported(target, outputs, linked, manifest)


_NO_LINK = frozenset({errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES})
"""Why a hard link can fail where a copy still works."""


def _copy_new(source: Path, dest: Path) -> None:
    """Copy `source` to a `dest` that must not exist (FileExistsError otherwise: a file that
    appeared meanwhile is never written over)."""
    with open(source, "rb") as reading, open(dest, "xb") as writing:
        shutil.copyfileobj(reading, writing)
    shutil.copystat(source, dest)


def _manifest_lines(ctx: ServiceContext, batch: Batch, items: list[BatchItem]) -> Iterator[dict]:
    """The batch manifest's lines for `items`' outputs (after its latest `run` line), each
    with its review; an item whose line is missing gets one made from what the batch knows."""
    from ..engine.layout import manifest_path, read_manifest
    from .reads import Reads

    folder = Reads(ctx).output_folder(batch)
    outputs = read_manifest(folder)
    run: dict | None = None
    with contextlib.suppress(OSError), open(manifest_path(folder), encoding="utf-8") as handle:
        for raw in handle:
            with contextlib.suppress(ValueError):
                line = json.loads(raw)
                if isinstance(line, dict) and line.get("kind") == "run":
                    run = line
    if run is not None:
        yield run
    for item in items:
        name = Path(item.output_path or "").name
        line = outputs.get(name) or {
            "kind": "output",
            "output": name,
            "item_id": item.id,
            "position": item.position,
            "content": item.content,
        }
        review = item.review
        yield {
            **line,
            "review": review_state(item),
            "note": review.note if review is not None else None,
        }
