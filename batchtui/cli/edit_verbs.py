"""Verbs that shape a batch: create, delete, items, config, rename, lock, unlock."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ..core.errors import ValidationError
from ..core.item_lines import read_item_lines
from ..core.problems import ProblemCode
from ..core.textsafe import one_line
from .base import CliBase
from .output import item_json
from .parser import config_fields

if TYPE_CHECKING:
    from ..core.models import Batch


class EditVerbs(CliBase):
    def do_create(self) -> int:
        params = _params(self.args.params)
        if self.args.template:
            batch = self.service.create_from_template(
                self.args.name, self.args.template, params, **config_fields(self.args)
            )
        elif params:
            raise ValidationError("--set gives template parameters: use it with --template")
        else:
            batch = self.service.create(self.args.name, **config_fields(self.args))
        self._warn_same_name(batch)
        if batch.items:
            return self.batch_result(
                batch,
                f"created '{batch.name}' ({batch.id}) from template {self.args.template}, "
                f"DRAFT, {len(batch.items)} items — next: batchtui lock {batch.id}",
            )
        return self.batch_result(
            batch,
            f"created '{batch.name}' ({batch.id}), DRAFT — next: batchtui add {batch.id} "
            f'"a prompt" …',
        )

    def _warn_same_name(self, batch: Batch) -> None:
        others = [i for i in self.service.same_name(batch.name) if i != batch.id]
        if others:
            shown = ", ".join(others[:3]) + (" …" if len(others) > 3 else "")
            sys.stderr.write(
                f"batchtui: note: {len(others)} other batch{'es' * (len(others) > 1)} "
                f"already named '{one_line(batch.name, 40)}' ({shown}); ids tell them apart\n"
            )

    def do_duplicate(self) -> int:
        batch = self.service.duplicate(self.args.id, self.args.name)
        self._warn_same_name(batch)
        return self.batch_result(
            batch,
            f"created '{batch.name}' ({batch.id}), DRAFT, a copy of the config and "
            f"{len(batch.items)} items of {self.args.id} — next: batchtui lock {batch.id}",
        )

    def do_delete(self) -> int:
        batch = self.service.delete(self.args.id, remove_outputs=self.args.outputs)
        kept = "its outputs too" if self.args.outputs else "its output files are kept"
        return self.batch_result(batch, f"deleted '{batch.name}' ({batch.id}); {kept}")

    def do_add(self) -> int:
        table = self.args.csv or self.args.jsonl
        if self.args.csv and self.args.jsonl:
            raise ValidationError("give --csv or --jsonl, not both")
        if table:
            if self.args.contents or self.args.file:
                raise ValidationError("give items as arguments, --file, or a table, not both")
            kind = "jsonl" if self.args.jsonl else "csv"
            items = self.service.add_rows(self.args.id, table, self.args.pattern, kind=kind)
        else:
            if self.args.pattern:
                raise ValidationError("--pattern goes with --csv or --jsonl")
            contents = list(self.args.contents)
            if contents == ["-"] and not self.args.file:  # `add ID -`: the lines of stdin
                contents = read_item_lines("-")
            elif self.args.file:
                contents += read_item_lines(self.args.file)
            if not contents:
                raise ValidationError("nothing to add: give CONTENT arguments, --file or --csv")
            items = self.service.add_items(self.args.id, contents)
        batch = self.service.get(self.args.id)
        return self.emit(
            [item_json(item) for item in items],
            lambda: self.say(
                f"added {len(items)} item{'s' * (len(items) != 1)} to '{batch.name}' "
                f"({len(batch.items)}/{batch.config.max_items})"
            ),
        )

    def do_edit(self) -> int:
        item = self.service.edit_item(self.args.id, self.args.item, self.args.content)
        return self.emit(item_json(item), lambda: self.out.print(f"item {item.position} updated"))

    def do_remove(self) -> int:
        item = self.service.remove_item(self.args.id, self.args.item)
        return self.emit(item_json(item), lambda: self.out.print(f"item {item.position} removed"))

    def do_move(self) -> int:
        item = self.service.move_item(self.args.id, self.args.item, self.args.offset)
        return self.emit(
            item_json(item), lambda: self.out.print(f"item moved to position {item.position}")
        )

    def do_config(self) -> int:
        fields = config_fields(self.args)
        batch = (
            self.service.update_config(self.args.id, **fields)
            if fields
            else self.service.get(self.args.id)
        )
        if fields:  # a value the lock will refuse is said now, not at lock
            found = self.service.lock_problems(batch.id)
            problems = [p for p in found if p.code is not ProblemCode.NO_ITEMS]
            if problems:
                sys.stderr.write(f"batchtui: note: saved, but lock will refuse: {problems[0]}\n")

        def human() -> None:
            for key, value in batch.config.model_dump().items():
                self.say(f"{key:<16}{value}")

        return self.emit(batch.config.model_dump(mode="json"), human)

    def do_rename(self) -> int:
        batch = self.service.rename(self.args.id, self.args.name)
        return self.batch_result(batch, f"renamed to '{batch.name}'")

    def do_lock(self) -> int:
        batch = self.service.lock(self.args.id)
        return self.batch_result(
            batch,
            f"locked '{batch.name}' (config hash {batch.config_hash}) — next: "
            f"batchtui start {batch.id}",
        )

    def do_unlock(self) -> int:
        batch = self.service.unlock(self.args.id)
        return self.batch_result(batch, f"'{batch.name}' is a DRAFT again")


def _params(pairs: list[str]) -> dict[str, object]:
    """`--set key=value` pairs as a dict (ValidationError for one without '=')."""
    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"--set takes KEY=VALUE, not '{pair}'")
        params[key.strip()] = value
    return params
