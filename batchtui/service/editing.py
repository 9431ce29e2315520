"""Use-cases that shape a batch before it runs: create, rename, config, items, lock, unlock,
delete. Each validates before it changes anything."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ..core.actions import require
from ..core.errors import (
    BatchtuiError,
    BusyError,
    MalformedBatchError,
    OutputsKeptError,
    StoreError,
    ValidationError,
)
from ..core.item_keys import check_key, first_repeat
from ..core.item_vars import VAR_NAME_RULE, VarValue, check_vars, is_var_name
from ..core.limits import MAX_COPY_BASE_CHARS
from ..core.models import Batch, BatchConfig, BatchItem, BatchStatus, generator_change
from ..core.notify_rules import ANY_STATE_FIELDS, RUN_LIMIT_FIELDS
from ..core.problems import Problem
from ..core.unlocking import back_to_draft
from ..core.variants import expand, series_items
from ..engine.layout import batch_folder, remove_output_folder
from ..generators import get_generator
from .context import ServiceContext
from .refs import resolve_item, resolve_items
from .validation import check_batch_size, check_content, clean_name, lock_problems, make_config


class Editing:
    """Creating and editing batches."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def create(self, name: str, config: BatchConfig | None = None, /, **fields: Any) -> Batch:
        """A new DRAFT batch with `config` (or the defaults with `fields` changed). Positional
        parameters only: any config field name, even `name` or `config`, is a field."""
        name = clean_name(name)
        if config is None:
            from ..core.styles import DEFAULT_STYLE

            # A new batch names its style: the look it locks is the one it keeps, whatever
            # a later release's default.
            if fields.get("style") is None:
                fields["style"] = DEFAULT_STYLE
            config = make_config(**fields)
        elif fields:
            config = make_config(**{**config.model_dump(), **fields})
        get_generator(config.generator)  # unknown generator: refuse now, not at lock
        now = self.ctx.clock()
        batch = Batch(
            id=self.ctx.new_id(), name=name, config=config, created_at=now, updated_at=now
        )
        with self.ctx.repo.transaction() as tx:
            tx.save(batch)
        return batch

    def duplicate(self, ref: str, name: str | None = None) -> Batch:
        """A new DRAFT batch with a copy of `ref`'s config and items (not its runs): "a new
        batch from this one". Named `name`, or "<name> (copy)"."""
        source = self.ctx.find(ref)
        if name is None:  # the first free one of "X (copy)", "X (copy 2)", …
            taken = {s.name.casefold() for s in self.ctx.repo.summaries()}
            base = source.name[:MAX_COPY_BASE_CHARS]
            name = f"{base} (copy)"
            number = 2
            while name.casefold() in taken:
                name = f"{base} (copy {number})"
                number += 1
        name = clean_name(name)
        now = self.ctx.clock()
        items = [  # one per series item (not its variants), with its variables and key
            BatchItem(
                id=self.ctx.new_id(),
                position=position,
                content=item.content,
                vars=dict(item.vars) if item.vars else None,
                key=item.key,
            )
            for position, item in enumerate(series_items(source), start=1)
        ]
        batch = Batch(
            id=self.ctx.new_id(),
            name=name,
            config=source.config.model_copy(deep=True),
            items=items,
            created_at=now,
            updated_at=now,
        )
        with self.ctx.repo.transaction() as tx:
            tx.save(batch)
        return batch

    def same_name(self, name: str) -> list[str]:
        """Ids of the batches already named `name`, case and spacing aside (names need not be
        unique: ids are)."""
        wanted = " ".join(name.split()).casefold()
        return [s.id for s in self.ctx.repo.summaries() if s.name.casefold() == wanted]

    def delete(self, ref: str, *, remove_outputs: bool = False) -> Batch:
        """Forget a batch (refused while PROCESSING); its output files stay unless asked.

        A malformed batch can be deleted too (it cannot be shown, started or edited): its
        outputs, if asked for, cannot be found without its config and are left alone. If
        outputs could not all be removed, the batch is gone and OutputsKeptError says what
        is left and why."""
        unreadable: StoreError | None = None
        with self.ctx.repo.transaction() as tx:
            batch_id = self.ctx.resolve(ref)
            try:
                batch = self.ctx.in_tx(tx, batch_id)
            except BusyError:
                raise
            except StoreError as exc:  # malformed, or not a batch file at all: deletable
                tx.delete(batch_id)
                unreadable = exc
            else:
                require(batch, "delete")
                tx.delete(batch.id)
        if unreadable is not None:
            name = unreadable.name if isinstance(unreadable, MalformedBatchError) else ""
            gone = Batch.model_construct(id=batch_id, name=name or "?")
            if remove_outputs:
                raise OutputsKeptError(
                    f"deleted the unreadable batch {batch_id}; its outputs were not removed "
                    "(its config, which says where they are, could not be read)"
                )
            return gone
        if remove_outputs:
            problem = remove_output_folder(batch_folder(batch.config, batch.id, batch.name))
            if problem:
                raise OutputsKeptError(
                    f"deleted '{batch.name}' ({batch.id}), but its outputs were not removed: "
                    f"{problem}"
                )
        return batch

    def rename(self, ref: str, name: str) -> Batch:
        """Give a DRAFT batch a new name."""
        name = clean_name(name)

        def change(batch: Batch) -> Batch:
            batch.name = name
            return batch

        return self.ctx.mutate(ref, "edit", change)

    def update_config(self, ref: str, /, **fields: Any) -> Batch:
        """Change config fields of a DRAFT batch (validated as a whole); who hears of its
        runs and its budget (`ANY_STATE_FIELDS`) alone may change in any state."""

        def change(batch: Batch) -> Batch:
            change = generator_change(batch.config, fields)  # its output type, unless chosen
            config = make_config(**{**batch.config.model_dump(), **change})
            if config.max_items < len(batch.items):
                raise ValidationError(
                    f"max items {config.max_items} is below the {len(batch.items)} items "
                    f"the batch already has"
                )
            get_generator(config.generator)
            batch.config = config
            return batch

        action = "announce" if fields and set(fields) <= ANY_STATE_FIELDS else "edit"
        return self.ctx.mutate(ref, action, change)

    @contextlib.contextmanager
    def run_settings(self, ref: str, **fields: Any) -> Iterator[None]:
        """Set a run's own settings (`RUN_LIMIT_FIELDS`: its budget, its yes to a forecast)
        for the start or retry the block makes; put back as they were if the block is
        refused (a refused start changes nothing). Only the fields given are set (None: the
        budget lifted)."""
        given = dict(fields)
        unknown = set(given) - RUN_LIMIT_FIELDS
        if unknown:
            raise ValidationError(f"not a run setting: {', '.join(sorted(unknown))}")
        if not given:
            yield
            return
        config = self.ctx.find(ref).config
        before = {name: getattr(config, name) for name in given}
        batch = self.update_config(ref, **given)
        try:
            yield
        except BatchtuiError:
            self.update_config(batch.id, **before)
            raise

    def add_items(
        self,
        ref: str,
        contents: Iterable[str],
        variables: Sequence[Mapping[str, object] | None] | None = None,
        keys: Sequence[str | None] | None = None,
    ) -> list[BatchItem]:
        """Append items to a DRAFT batch, each with its variables (`variables`, one mapping
        or None per content) and its key (`keys`, one or None per content); all or nothing
        (blank, a bad variable, a key given twice or taken, or too many: none added)."""
        contents = list(contents)
        if not contents:
            raise ValidationError("no items given")
        for content in contents:
            check_content(content)
        if variables is not None and len(variables) != len(contents):
            raise ValidationError("give one set of variables per item")
        checked: list[dict[str, VarValue] | None] = []
        for number, given in enumerate(variables or [None] * len(contents), start=1):
            try:
                checked.append(check_vars(given))
            except ValueError as exc:
                where = f"item {number}: " if len(contents) > 1 else ""
                raise ValidationError(f"{where}{exc}") from None
        if keys is not None and len(keys) != len(contents):
            raise ValidationError("give one key (or none) per item")
        new_keys = _checked_keys(keys or [None] * len(contents))

        def change(batch: Batch) -> list[BatchItem]:
            limit = batch.config.max_items
            if len(batch.items) + len(contents) > limit:
                room = limit - len(batch.items)
                raise ValidationError(
                    f"batch '{batch.name}' holds at most {limit} items; it has "
                    f"{len(batch.items)}, so {room} more fit, not {len(contents)} "
                    "(raise the config's max items)"
                )
            check_batch_size(batch.name, (item.content for item in batch.items), contents)
            _keys_free(batch, new_keys)
            added = []
            for content, values, key in zip(contents, checked, new_keys, strict=True):
                item = BatchItem(
                    id=self.ctx.new_id(),
                    position=len(batch.items) + 1,
                    content=content,
                    vars=values,
                    key=key,
                )
                batch.items.append(item)
                added.append(item)
            return added

        return self.ctx.mutate(ref, "edit", change)

    def edit_item(
        self,
        ref: str,
        item_ref: str | int,
        content: str | None,
        values: Mapping[str, object] | None = None,
        unset: Sequence[str] = (),
        key: str | None = None,
    ) -> BatchItem:
        """Replace one item's content (None: keep it), set some of its variables (`values`;
        its others stay), drop those named in `unset` (one it does not have: nothing to drop,
        as a JSON merge patch's null), and set its key (None: keep it; "":
        drop it); DRAFT only, all or nothing."""
        if content is not None:
            check_content(content)
        [new_key] = _checked_keys([key]) if key else [None]
        for name in unset:
            if not is_var_name(name):
                raise ValidationError(f"{name[:40]!r} is not a variable name ({VAR_NAME_RULE})")
        both = sorted(set(unset) & set(values or {}))
        if both:
            raise ValidationError(f"variable {both[0]} is both set and unset; give one")

        def change(batch: Batch) -> BatchItem:
            item = resolve_item(batch, item_ref)
            if values or unset:
                merged = {**(item.vars or {}), **(values or {})}
                for name in unset:
                    merged.pop(name, None)
                try:
                    checked = check_vars(merged)
                except ValueError as exc:
                    raise ValidationError(str(exc)) from None
            if content is not None:
                others = (other.content for other in batch.items if other is not item)
                check_batch_size(batch.name, others, [content])
                item.content = content
            if new_key is not None and new_key != item.key:
                _keys_free(batch, [new_key])
            if values or unset:
                item.vars = checked
            if key is not None:
                item.key = new_key
            return item

        return self.ctx.mutate(ref, "edit", change)

    def remove_item(self, ref: str, item_ref: str | int) -> BatchItem:
        """Remove one item (DRAFT only); later items move up."""

        def change(batch: Batch) -> BatchItem:
            item = resolve_item(batch, item_ref)
            batch.items.remove(item)
            _renumber(batch)
            return item

        return self.ctx.mutate(ref, "edit", change)

    def move_item(self, ref: str, item_ref: str | int, offset: int) -> BatchItem:
        """Move one item up (negative) or down (positive), clamped to the list (DRAFT only)."""

        def change(batch: Batch) -> BatchItem:
            item = resolve_item(batch, item_ref)
            index = batch.items.index(item)
            target = min(max(index + offset, 0), len(batch.items) - 1)
            batch.items.insert(target, batch.items.pop(index))
            _renumber(batch)
            return item

        return self.ctx.mutate(ref, "edit", change)

    def remove_items(self, ref: str, item_refs: Iterable[str | int]) -> list[BatchItem]:
        """Remove several items at once (DRAFT only), all or none; later items move up. The
        removed items come back as they were (positions before the removal, in list order),
        for `restore_items` to put back."""
        wanted = list(item_refs)
        if not wanted:
            raise ValidationError("no items given")

        def change(batch: Batch) -> list[BatchItem]:
            removed = {item.id: item.model_copy(deep=True) for item in resolve_items(batch, wanted)}
            batch.items = [item for item in batch.items if item.id not in removed]
            _renumber(batch)
            return sorted(removed.values(), key=lambda item: item.position)

        return self.ctx.mutate(ref, "edit", change)

    def restore_items(self, ref: str, items: Iterable[BatchItem]) -> list[BatchItem]:
        """Put removed items back where they were (DRAFT only): an undo of `remove_items`.
        Each keeps its text and id (a new id if the old one is taken now) and goes back to its
        position, or the end if the list is shorter now; all or none (the item limit holds)."""
        returning = sorted((item.model_copy(deep=True) for item in items), key=_by_position)
        if not returning:
            raise ValidationError("no items given")
        for item in returning:
            check_content(item.content)

        def change(batch: Batch) -> list[BatchItem]:
            limit = batch.config.max_items
            if len(batch.items) + len(returning) > limit:
                raise ValidationError(
                    f"batch '{batch.name}' holds at most {limit} items; it has "
                    f"{len(batch.items)}, so the {len(returning)} deleted ones do not fit "
                    "(raise the config's max items)"
                )
            _keys_free(batch, (item.key for item in returning))  # taken since: refuse, whole
            taken = {item.id for item in batch.items}
            for item in returning:  # lowest position first: each lands where it was
                if item.id in taken:
                    item.id = self.ctx.new_id()
                taken.add(item.id)
                batch.items.insert(min(item.position - 1, len(batch.items)), item)
            _renumber(batch)
            return returning

        return self.ctx.mutate(ref, "edit", change)

    def move_items(self, ref: str, item_refs: Iterable[str | int], offset: int) -> list[BatchItem]:
        """Move several items up (negative) or down (positive) together, one step at a time,
        keeping their order; an item that reaches the end of the list stays there while the
        others go on (DRAFT only). The moved items, in list order."""
        wanted = list(item_refs)

        def change(batch: Batch) -> list[BatchItem]:
            chosen = {item.id for item in resolve_items(batch, wanted)}
            items = batch.items
            step = -1 if offset < 0 else 1
            order = range(len(items)) if step < 0 else range(len(items) - 1, -1, -1)
            for _ in range(abs(offset)):
                for index in order:
                    target = index + step
                    if (
                        items[index].id in chosen
                        and 0 <= target < len(items)
                        and items[target].id not in chosen
                    ):
                        items[index], items[target] = items[target], items[index]
            _renumber(batch)
            return [item for item in items if item.id in chosen]

        return self.ctx.mutate(ref, "edit", change)

    def lock_problems(self, ref: str) -> list[Problem]:
        """Every reason the batch could not be locked now (empty: it could); for saying so as
        soon as a value is saved, not only at lock."""
        return lock_problems(self.ctx.find(ref))

    def lock(self, ref: str) -> Batch:
        """Validate and freeze the config (DRAFT → LOCKED), recording its hash."""

        def change(batch: Batch) -> Batch:
            problems = lock_problems(batch)
            if problems:
                summary = problems[0] if len(problems) == 1 else "; ".join(problems)
                raise ValidationError(f"cannot lock '{batch.name}': {summary}", problems)
            batch.move_to(BatchStatus.LOCKED)
            batch.locked_at = self.ctx.clock()
            batch.config_hash = batch.config.fingerprint()
            expand(batch, self.ctx.new_id)  # frozen with the config: N rows per item
            return batch

        return self.ctx.mutate(ref, "lock", change)

    def unlock(self, ref: str) -> Batch:
        """Return a LOCKED (or FAILED) batch to DRAFT so it can be edited."""
        return self.ctx.mutate(ref, "unlock", back_to_draft)


def _checked_keys(keys: Sequence[str | None]) -> list[str | None]:
    """`keys` checked (`core.item_keys`), each at most once; ValidationError naming the row."""
    checked = []
    for number, key in enumerate(keys, start=1):
        try:
            checked.append(check_key(key))
        except ValueError as exc:
            where = f"item {number}: " if len(keys) > 1 else ""
            raise ValidationError(f"{where}{exc}") from None
    repeated = first_repeat(checked)
    if repeated is not None:
        rows = [n for n, key in enumerate(checked, start=1) if key == repeated]
        raise ValidationError(
            f"key {repeated!r} is given to items {', '.join(map(str, rows))}; keys are unique"
        )
    return checked


def _keys_free(batch: Batch, keys: Iterable[str | None]) -> None:
    """ValidationError if one of `keys` already names an item of `batch`."""
    taken = {item.key: item for item in batch.items if item.key is not None}
    for key in keys:
        if key is not None and key in taken:
            raise ValidationError(
                f"key {key!r} already names item {taken[key].label} of '{batch.name}'; "
                "keys are unique in a batch"
            )


def _by_position(item: BatchItem) -> int:
    return item.position


def _renumber(batch: Batch) -> None:
    for position, item in enumerate(batch.items, start=1):
        item.position = position
