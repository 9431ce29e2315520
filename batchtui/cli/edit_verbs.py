"""Verbs that shape a batch: create, delete, items, config, rename, lock, unlock."""

from __future__ import annotations

from ..core.errors import ValidationError
from .base import CliBase, read_lines
from .output import item_json
from .parser import config_fields


class EditVerbs(CliBase):
    def do_create(self) -> int:
        batch = self.service.create(self.args.name, **config_fields(self.args))
        return self.batch_result(
            batch,
            f"created '{batch.name}' ({batch.id}), DRAFT — next: batchtui add {batch.id} "
            f'"a prompt" …',
        )

    def do_delete(self) -> int:
        batch = self.service.delete(self.args.id, remove_outputs=self.args.outputs)
        kept = "its outputs too" if self.args.outputs else "its output files are kept"
        return self.batch_result(batch, f"deleted '{batch.name}' ({batch.id}); {kept}")

    def do_add(self) -> int:
        contents = list(self.args.contents)
        if self.args.file:
            contents += read_lines(self.args.file)
        if not contents:
            raise ValidationError("nothing to add: give CONTENT arguments or --file")
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
