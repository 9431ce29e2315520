"""Use-cases of templates: list and load them, save one (from a batch or as a document),
delete one, and make a batch from one; and a batch re-made from a manifest. The files
themselves are `service.templates` and `service.remake`."""

from __future__ import annotations

from typing import Any

from ..core.errors import BatchtuiError, ValidationError
from ..core.models import Batch, BatchConfig
from ..generators import get_generator
from .context import ServiceContext
from .editing import Editing
from .remake import Remade, read
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

        made, items = load(template).make_items(parameters or {})
        contents = [item.content for item in items]
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
            try:
                self.editing.add_items(
                    batch.id, contents, [item.vars for item in items], [item.key for item in items]
                )
            except BatchtuiError:
                self.editing.delete(batch.id)  # nothing half made
                raise
            batch = self.ctx.find(batch.id)
        return batch

    def import_manifest(
        self, source: str | Remade, name: str | None = None, /, **fields: Any
    ) -> tuple[Batch, list[str]]:
        """A new DRAFT batch re-made from a manifest (a file, '-', a batch folder, or one read
        already): its last run's config (then `fields`: folders, concurrency…) and one item
        per output, with their variables and keys; all or nothing. Also the notes a person
        should read (items with no output, a hash that came out different)."""
        remade = read(source) if isinstance(source, str) else source
        # As the manifest says (its hash must hold); the frame size it records is the
        # platform's, not a field of its own.
        settable = BatchConfig.model_fields
        try:
            recorded = make_config(**{k: v for k, v in remade.config.items() if k in settable})
            get_generator(recorded.generator)
        except ValidationError as exc:
            raise ValidationError(f"{remade.where}: its run's {exc}") from None
        notes: list[str] = []
        if remade.missing:
            shown = ", ".join(map(str, remade.missing[:10])) + (
                " …" if len(remade.missing) > 10 else ""
            )
            notes.append(
                f"items {shown} made no output in this manifest and are not re-made "
                "(the later items move up)"
            )
        if remade.config_hash and recorded.fingerprint() != remade.config_hash:
            notes.append(
                f"the config's hash is {recorded.fingerprint()}, not the manifest's "
                f"{remade.config_hash}: a setting it records is no longer read the same way"
            )
        given = {k: v for k, v in fields.items() if v is not None}
        room = given.get("max_items") or max(recorded.max_items, len(remade.contents))
        config = make_config(**{**recorded.model_dump(), **given, "max_items": room})
        get_generator(config.generator)
        if config.fingerprint() != recorded.fingerprint():
            changed = sorted(
                name
                for name, value in config.render_fields().items()
                if recorded.render_fields().get(name) != value
            )
            notes.append(
                f"the settings given change how outputs look ({', '.join(changed)}): its hash "
                f"will be {config.fingerprint()}, not {recorded.fingerprint()}; the series is "
                "not re-made exactly"
            )
        batch = self.editing.create(name or remade.name, config)
        try:
            self.editing.add_items(batch.id, remade.contents, remade.variables, remade.keys)
        except BatchtuiError as exc:
            self.editing.delete(batch.id)  # nothing half made
            if isinstance(exc, ValidationError):
                raise ValidationError(f"{remade.where}: {exc}") from None
            raise
        return self.ctx.find(batch.id), notes
