"""Use-cases of templates: list and load them, save one (from a batch or as a document),
delete one, and make a batch from one. The files themselves are `service.templates`."""

from __future__ import annotations

from typing import Any

from ..core.errors import ValidationError
from ..core.models import Batch
from .context import ServiceContext
from .editing import Editing
from .templates import Template, delete, from_batch, from_document, list_all, load, save
from .validation import check_content, make_config


class Templating:
    """Templates, and batches made from them."""

    def __init__(self, ctx: ServiceContext, editing: Editing) -> None:
        self.ctx = ctx
        self.editing = editing

    def templates(self) -> tuple[list[Template], list[str]]:
        """Every template, and a one-line report for each malformed template file."""
        return list_all()

    def template(self, name: str) -> Template:
        """One template by name."""
        return load(name)

    def save_template(
        self, ref: str, name: str, *, description: str = "", overwrite: bool = False
    ) -> Template:
        """Save a batch's structure (config and items) as the template `name`."""
        return save(from_batch(self.ctx.find(ref), name, description), overwrite=overwrite)

    def put_template(self, data: dict[str, Any], *, overwrite: bool = False) -> Template:
        """Save a template given as a document (name, description, config, parameters,
        items, count); returns it as its file reads back."""
        return save(from_document(data), overwrite=overwrite)

    def delete_template(self, name: str) -> Template:
        """Remove a template file."""
        return delete(name)

    def create_from_template(
        self,
        name: str,
        template: str,
        parameters: dict[str, object] | None = None,
        /,
        **fields: Any,
    ) -> Batch:
        """A new DRAFT batch made by a template (its config, then `fields`; its items), all or
        nothing: a template whose items do not fit or are blank makes no batch."""
        from ..core.styles import DEFAULT_STYLE

        made, contents = load(template).make(parameters or {})
        merged = {**made, **{k: v for k, v in fields.items() if v is not None}}
        merged["style"] = merged.get("style") or DEFAULT_STYLE  # as `create` names one
        config = make_config(**merged)
        if len(contents) > config.max_items:
            raise ValidationError(
                f"template '{template}' makes {len(contents)} items but the batch holds at most "
                f"{config.max_items} (set max_items)"
            )
        for content in contents:
            check_content(content)
        batch = self.editing.create(name, config)
        if contents:
            self.editing.add_items(batch.id, contents)
            batch = self.ctx.find(batch.id)
        return batch
