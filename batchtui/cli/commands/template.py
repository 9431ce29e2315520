"""`batchtui template list|show|save|delete`: reusable batch structures as TOML files."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, ClassVar

from ...core.textsafe import one_line
from ..context import Context
from ..options import Option, json_option
from .base import BaseCommand

if TYPE_CHECKING:
    from ...service.templates import Template as TemplateModel

template_name = Option("name", metavar="NAME")


def template_json(template: TemplateModel) -> dict[str, Any]:
    """A template as JSON (the shape the API uses too)."""
    return template.model_dump(mode="json")


class TemplateAction(BaseCommand):
    """One of `template`'s actions."""

    name: ClassVar[str]
    help: ClassVar[str]


class TemplateList(TemplateAction):
    name = "list"
    help = "every template (malformed files are reported)"
    arguments = (json_option,)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        found, problems = ctx.service.templates()
        for problem in problems:  # reported, and otherwise ignored
            sys.stderr.write(f"batchtui: skipped {one_line(problem)}\n")

        def human() -> None:
            if not found:
                from ...service.templates import templates_dir

                ctx.say(
                    f"no templates in {templates_dir()} — save one: batchtui template save "
                    f"BATCH NAME"
                )
                return
            for template in found:
                params = ", ".join(template.parameters)
                extra = f"  (parameters: {params})" if params else ""
                ctx.say(f"{template.name:<20} {one_line(template.description, 60)}{extra}")

        return ctx.emit([template_json(t) for t in found], human)


class TemplateShow(TemplateAction):
    name = "show"
    help = "one template"
    arguments = (template_name, json_option)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        template = ctx.service.template(args.name)

        def human() -> None:
            from ...service.templates import dumps

            ctx.say(f"# template {template.name}")
            ctx.say(dumps(template).rstrip())

        return ctx.emit(template_json(template), human)


class TemplateSave(TemplateAction):
    name = "save"
    help = "save a batch's config and items as a template"
    arguments = (
        Option("id", metavar="BATCH", help="batch id, id prefix or name"),
        template_name,
        Option("--description", "-m", default="", help="what the template is for"),
        Option("--force", action="store_true", help="replace a template of that name"),
        json_option,
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        template = ctx.service.save_template(
            args.id, args.name, description=args.description, overwrite=args.force
        )
        from ...service.templates import templates_dir

        return ctx.emit(
            template_json(template),
            lambda: ctx.say(
                f"saved template {template.name} ({len(template.items)} items) in "
                f"{templates_dir()} — use it: batchtui create NAME --template {template.name}"
            ),
        )


class TemplateDelete(TemplateAction):
    name = "delete"
    help = "remove a template file"
    arguments = (template_name, json_option)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        template = ctx.service.delete_template(args.name)
        return ctx.emit(
            template_json(template), lambda: ctx.say(f"deleted template {template.name}")
        )


ACTIONS: dict[str, TemplateAction] = {
    action.name: action
    for action in (TemplateList(), TemplateShow(), TemplateSave(), TemplateDelete())
}
"""`template`'s actions, in the order `--help` lists them."""


class Template(BaseCommand):
    """`template ACTION …`: each action has its own parser and handler."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
        actions.required = True
        for action in ACTIONS.values():
            action.add_arguments(actions.add_parser(action.name, help=action.help))

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        return ACTIONS[args.action].handle(args, ctx)
