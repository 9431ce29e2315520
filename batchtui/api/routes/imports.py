"""`POST /v1/imports/`: a batch re-made from a manifest's text (as `batchtui import`)."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from ...service.remake import parse
from ...service.views import batch_json
from ..answers import BatchAnswer, answer
from ..deps import Service
from ..errors import ERROR_RESPONSES
from ..routing import ResourceRouter
from ..schemas import ImportManifest

# Its own resource: under /v1/batch/ it would share a path with `/v1/batch/{ref}` (a batch named
# "import"), and answer OPTIONS and 405s with that resource's methods.
router = ResourceRouter(prefix="/v1/imports", tags=["batches"], responses=ERROR_RESPONSES)


@router.post(
    "/",
    status_code=201,
    response_model=None,
    responses=answer(201, BatchAnswer, "the new DRAFT batch, with `notes`"),
)
def import_manifest(body: ImportManifest, service: Service) -> JSONResponse:
    """Create a DRAFT batch from a manifest: its last run's config (then `config`) and one item
    per output, with their variables and keys (all or nothing). `notes` says what a person
    should know: items with no output, a config hash that came out different."""
    batch, notes = service.import_manifest(
        parse(body.manifest, "the manifest"), body.name, **body.config
    )
    return JSONResponse(batch_json(batch) | {"notes": notes}, status_code=201)
