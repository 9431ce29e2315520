"""`/v1/templates`: list, show, save and delete batch templates."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from ..deps import Service
from ..errors import ERROR_RESPONSES
from ..routing import ResourceRouter
from ..schemas import SaveTemplate

router = ResourceRouter(prefix="/v1/templates", tags=["templates"], responses=ERROR_RESPONSES)


@router.get("/")
def list_templates(service: Service) -> dict[str, Any]:
    """Every template, and the malformed template files (each reported in one line)."""
    found, problems = service.templates()
    return {"templates": [t.model_dump(mode="json") for t in found], "problems": problems}


@router.get("/{name}")
def get_template(name: str, service: Service) -> dict[str, Any]:
    """One template."""
    return service.template(name).model_dump(mode="json")


@router.post("/", status_code=201)
def save_template(body: SaveTemplate, service: Service) -> JSONResponse:
    """Save a template: a whole document, or `{"name", "batch"}` for a batch's structure."""
    if body.batch is not None:
        template = service.save_template(
            body.batch, body.name, description=body.description, overwrite=body.overwrite
        )
    else:
        data = body.model_dump(exclude={"batch", "overwrite"})
        template = service.put_template(data, overwrite=body.overwrite)
    return JSONResponse(template.model_dump(mode="json"), status_code=201)


@router.delete("/{name}")
def delete_template(name: str, service: Service) -> dict[str, Any]:
    """Remove a template file."""
    return service.delete_template(name).model_dump(mode="json")
