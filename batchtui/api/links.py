"""OpenAPI links: how one answer leads to the next operation (a batch made → lock it → start
it → follow it). Schema-driven clients and stateful API fuzzers follow them to reach the
operations that need a batch in a given state, which no single request can make.

Each link names its target by the endpoint's function name and says where the target's
parameters come from (`$response.body#/id`, `$request.path.ref`, …); the operation ids are
looked up from the app's own routes, so renaming an endpoint cannot leave a dangling link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

BY_ID = {"ref": "$response.body#/id"}
SAME_REF = {"ref": "$request.path.ref"}

_FOLLOW_A_BATCH = ("get_batch", "progress", "events", "failed", "outputs")
_FROM_A_DRAFT = ("add_items", "update_config", "lock", "duplicate", "delete_batch")
_FROM_A_LOCKED = ("start", "unlock", "set_concurrency")
_FROM_A_RUN = ("cancel", "retry", "progress", "events", "failed", "outputs")

LINKS: dict[tuple[str, str], dict[str, tuple[str, dict[str, str]]]] = {
    ("create_batch", "201"): {
        name: (name, BY_ID) for name in (*_FROM_A_DRAFT, *_FROM_A_LOCKED, *_FOLLOW_A_BATCH)
    },
    ("duplicate", "201"): {name: (name, BY_ID) for name in (*_FROM_A_DRAFT, *_FOLLOW_A_BATCH)},
    ("get_batch", "200"): {
        name: (name, BY_ID) for name in (*_FROM_A_DRAFT, *_FROM_A_LOCKED, *_FROM_A_RUN)
    },
    ("lock", "200"): {name: (name, BY_ID) for name in (*_FROM_A_LOCKED, *_FOLLOW_A_BATCH)},
    ("unlock", "200"): {name: (name, BY_ID) for name in _FROM_A_DRAFT},
    ("start", "202"): {name: (name, BY_ID) for name in _FROM_A_RUN},
    ("retry", "202"): {name: (name, BY_ID) for name in _FROM_A_RUN},
    ("cancel", "202"): {
        name: (name, BY_ID) for name in ("get_batch", "retry", "progress", "failed", "unlock")
    },
    ("add_items", "201"): {
        "edit_item": ("edit_item", {**SAME_REF, "item": "$response.body#/0/id"}),
        "remove_item": ("remove_item", {**SAME_REF, "item": "$response.body#/0/id"}),
        "lock": ("lock", SAME_REF),
    },
    ("save_template", "201"): {
        "get_template": ("get_template", {"name": "$response.body#/name"}),
        "delete_template": ("delete_template", {"name": "$response.body#/name"}),
    },
}
"""(endpoint, status) → {link name: (target endpoint, its parameters)}."""


def _operation_ids(routes: Iterable[BaseRoute]) -> dict[str, tuple[str, str, str]]:
    """Endpoint name → (operation id, path, method), for the routes in the schema."""
    found: dict[str, tuple[str, str, str]] = {}
    for route in routes:
        if isinstance(route, APIRoute) and route.include_in_schema and route.methods:
            method = sorted(route.methods)[0].lower()
            found[route.name] = (route.unique_id, route.path_format, method)
    return found


def with_links(app: FastAPI, routes: Iterable[BaseRoute]) -> Callable[[], dict[str, Any]]:
    """`app.openapi`, with the links above added to the answers they start from (`routes`:
    the API's own routes)."""
    plain = app.openapi
    ids = _operation_ids(routes)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = plain()
        for (source, status), links in LINKS.items():
            _, path, method = ids[source]
            answer = schema["paths"][path][method]["responses"][status]
            answer["links"] = {
                name: {"operationId": ids[target][0], "parameters": parameters}
                for name, (target, parameters) in links.items()
            }
        app.openapi_schema = schema
        return schema

    return openapi
