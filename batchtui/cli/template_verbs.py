"""`batchtui template list|show|save|delete`: reusable batch structures as TOML files."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from ..core.textsafe import one_line
from .base import CliBase

if TYPE_CHECKING:
    from ..service.templates import Template


def template_json(template: Template) -> dict[str, Any]:
    """A template as JSON (the shape the API uses too)."""
    return template.model_dump(mode="json")


class TemplateVerbs(CliBase):
    def do_template(self) -> int:
        return getattr(self, f"_template_{self.args.action}")()

    def _template_list(self) -> int:
        found, problems = self.service.templates()
        for problem in problems:  # reported, and otherwise ignored
            sys.stderr.write(f"batchtui: skipped {one_line(problem)}\n")

        def human() -> None:
            if not found:
                from ..service.templates import templates_dir

                self.say(
                    f"no templates in {templates_dir()} — save one: batchtui template save "
                    f"BATCH NAME"
                )
                return
            for template in found:
                params = ", ".join(template.parameters)
                extra = f"  (parameters: {params})" if params else ""
                self.say(f"{template.name:<20} {one_line(template.description, 60)}{extra}")

        return self.emit([template_json(t) for t in found], human)

    def _template_show(self) -> int:
        template = self.service.template(self.args.name)

        def human() -> None:
            from ..service.templates import dumps

            self.say(f"# template {template.name}")
            self.say(dumps(template).rstrip())

        return self.emit(template_json(template), human)

    def _template_save(self) -> int:
        template = self.service.save_template(
            self.args.id,
            self.args.name,
            description=self.args.description,
            overwrite=self.args.force,
        )
        from ..service.templates import templates_dir

        return self.emit(
            template_json(template),
            lambda: self.say(
                f"saved template {template.name} ({len(template.items)} items) in "
                f"{templates_dir()} — use it: batchtui create NAME --template {template.name}"
            ),
        )

    def _template_delete(self) -> int:
        template = self.service.delete_template(self.args.name)
        return self.emit(
            template_json(template), lambda: self.say(f"deleted template {template.name}")
        )
