"""Verbs that only read: list, show, progress, failed, outputs, generators, platforms."""

from __future__ import annotations

import dataclasses
import sys

from ..core.platforms import PLATFORMS
from ..core.textsafe import one_line
from .base import CliBase
from .output import (
    batch_json,
    item_json,
    progress_line,
    show_batch,
    summary_json,
    write_batches_table,
    write_items_table,
)
from .parser import LIST_PAGE


class ReadVerbs(CliBase):
    def do_list(self) -> int:
        """The newest batches (or all), from the index: no batch is read in full."""
        json_out = getattr(self.args, "json", False)
        limit = self.args.limit or (None if json_out else LIST_PAGE)
        shown, total = self.service.page(None if self.args.all else limit)

        def human() -> None:
            if not total:
                self.say('no batches yet — start one: batchtui create "Space Facts"')
                return
            write_batches_table(shown, sys.stdout)
            hidden = total - len(shown)
            if hidden:
                self.say(
                    f"… {hidden:,} older batch{'es' * (hidden != 1)} not shown (newest "
                    f"{len(shown)} of {total:,}): batchtui list --all, or --limit N"
                )

        code = self.emit([summary_json(s) for s in shown], human)
        for batch_id, name in self.service.broken():
            sys.stderr.write(
                f"batchtui: warning: batch {batch_id} {one_line(repr(name), 30)} cannot be read "
                f"and is not listed: batchtui show {batch_id} says why\n"
            )
        return code

    def do_show(self) -> int:
        batch = self.service.get(self.args.id)
        return self.emit(batch_json(batch), lambda: show_batch(batch, sys.stdout))

    def do_progress(self) -> int:
        progress = self.service.progress(self.args.id)
        return self.emit(
            progress.model_dump(mode="json"),
            lambda: self.out.print(progress_line(progress).removeprefix("progress  ")),
        )

    def do_failed(self) -> int:
        items = self.service.failed(self.args.id)
        return self.emit(
            [item_json(item) for item in items],
            lambda: write_items_table(items, sys.stdout) if items else self.say("no failed items"),
        )

    def do_outputs(self) -> int:
        items = self.service.outputs(self.args.id)
        data = [
            {
                "position": it.position,
                "item_id": it.id,
                "content": it.content,
                "output_path": it.output_path,
            }
            for it in items
        ]

        def human() -> None:
            if not items:
                self.out.print("no outputs yet")
            for item in items:
                print(item.output_path)

        return self.emit(data, human)

    def do_generators(self) -> int:
        from ..generators import available
        from ..generators.command import PLACEHOLDERS

        data = {"generators": available(), "placeholders": PLACEHOLDERS}

        def human() -> None:
            self.out.print("generators: " + ", ".join(available()))
            self.out.print("command placeholders:")
            for name, text in PLACEHOLDERS.items():
                self.out.print(f"  {{{name}}}  {text}", markup=False)

        return self.emit(data, human)

    def do_platforms(self) -> int:
        data = {key: dataclasses.asdict(p) for key, p in PLATFORMS.items()}

        def human() -> None:
            for p in PLATFORMS.values():
                self.out.print(
                    f"{p.key:<16}{p.width}x{p.height}  up to {p.max_duration:g}s  ({p.label})"
                )

        return self.emit(data, human)

    def do_styles(self) -> int:
        from ..core.styles import DEFAULT_STYLE, STYLES

        data = {key: dataclasses.asdict(style) for key, style in STYLES.items()}

        def human() -> None:
            for style in STYLES.values():
                default = "  (default)" if style.key == DEFAULT_STYLE else ""
                self.out.print(
                    f"{style.key:<10}{style.label:<12}{style.top} → {style.bottom}, text "
                    f"{style.text}, accent {style.accent}{default}",
                    markup=False,
                )

        return self.emit(data, human)
