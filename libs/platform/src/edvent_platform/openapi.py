"""The OpenAPI document every service serves: readable operation ids and exact errors.

Clients generate code from these documents, so they say every status a route really
answers. A route lists its own errors with `problem_responses(403, 404, ...)`; what the
platform itself answers on any route is added here to every operation:

- 401 on operations that take a bearer token (optional tokens are declared optional);
- 422 wherever parameters or a body are validated, 413 wherever a body is read, both
  `application/problem+json` (FastAPI's own 422 entry says `application/json`);
- 414 wherever parameters are taken: nginx refuses a request line over 16 KiB with its
  own page, before any location applies (so no problem+json, and no content listed);
- 503 with Retry-After: any route may find its database or a dependency unavailable.

It also says what API linters (Redocly's recommended rules, `make lint`) ask for: the
server (the gateway, relative to where the document is served) and `security: []` on
operations that take no token, so "public" is stated rather than forgotten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from edvent_platform.auth import current_user, optional_user
from edvent_platform.problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `errors` lists what failed validation (422).",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string", "example": "Not Found"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "example": 404},
        "detail": {"type": "string", "example": "There is no course with this id."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    },
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "`Bearer`: send `Authorization: Bearer <access_token>`.",
        "schema": {"type": "string"},
    }
}

DESCRIPTIONS = {
    401: "Missing, invalid or expired access token",
    403: "The caller may not do this",
    404: "No such resource (or not visible to the caller)",
    409: "Conflicts with the current state",
    413: "The request body is larger than this operation accepts",
    414: "The URL is longer than the gateway accepts",
    415: "The request body's media type is not accepted",
    422: "The request is not valid (malformed or not UTF-8 JSON, or a field breaks its "
    "rules); `errors` says where",
    429: "Too many requests; retry after Retry-After seconds",
    503: "Unavailable for the moment (a dependency is down or the service is shedding "
    "load); retry after Retry-After seconds",
}


def problem_responses(
    *statuses: int, descriptions: dict[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problem+json errors a route answers.

    `@router.get(..., responses=problem_responses(403, 404))`; `descriptions` says what
    a status means for this route (otherwise a generic sentence).
    """
    own = descriptions or {}
    return {status: _problem_response(status, own.get(status)) for status in statuses}


def _problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or DESCRIPTIONS.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
    }
    if status in (429, 503):
        response["headers"] = dict(_RETRY_AFTER)
    elif status == 401:
        response["headers"] = dict(_WWW_AUTHENTICATE)
    return response


def operation_id(route: APIRoute) -> str:
    """`listCourses` for a route function `list_courses`: what generated clients call it.

    A route may set `operation_id=` itself; route function names are unique per app.
    """
    head, *rest = route.name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def install_openapi(app: FastAPI) -> None:
    """Give `app` readable operation ids and the platform's error responses."""
    app.router.generate_unique_id_function = operation_id

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                # Served through the gateway, so its root is the API's base URL.
                servers=app.servers or [{"url": "/", "description": "The gateway"}],
                tags=app.openapi_tags,
            )
            complete_document(document, app)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete_document(document: dict[str, Any], app: FastAPI) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    auth_of = {
        (route.path_format, method.lower()): _auth_kind(route.dependant)
        # Routes of included routers too (FastAPI keeps those behind one entry).
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        for method in route.methods or ()
    }
    for path, method, operation in _operations(document):
        responses: dict[str, Any] = operation.setdefault("responses", {})
        validates = bool(operation.get("parameters") or operation.get("requestBody"))
        wanted = {503}
        if validates:
            wanted.add(422)
        if operation.get("parameters"):
            responses.setdefault("414", {"description": DESCRIPTIONS[414]})
        if operation.get("requestBody"):
            wanted.add(413)
        auth = auth_of.get((path, method))
        if auth is None:
            operation["security"] = []
        else:
            wanted.add(401)
            if auth == "optional":
                # No token is fine; a token sent must be valid.
                operation["security"] = [{}, *operation.get("security", [])]
        for status in sorted(wanted):
            existing = responses.get(str(status))
            if existing is None or PROBLEM_JSON not in existing.get("content", {}):
                # FastAPI's default 422 documents `application/json` HTTPValidationError.
                description = existing.get("description") if existing else None
                if description == "Validation Error":
                    description = None
                responses[str(status)] = _problem_response(status, description)
        for response in responses.values():
            problem = response.get("content", {}).get(PROBLEM_JSON)
            if problem is not None and problem.get("schema") == {"type": "object"}:
                problem["schema"] = _PROBLEM_REF
    # Nothing refers to FastAPI's own validation shapes any more.
    for unused in ("HTTPValidationError", "ValidationError"):
        if not _refers_to(document, f"#/components/schemas/{unused}"):
            schemas.pop(unused, None)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}:
                yield path, method, operation


def _auth_kind(dependant: Dependant) -> str | None:
    """`required` when the route needs a bearer token, `optional` when it takes one."""
    calls = set(_calls(dependant))
    if current_user in calls:
        return "required"
    if optional_user in calls:
        return "optional"
    return None


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _refers_to(value: Any, ref: str) -> bool:
    if isinstance(value, dict):
        if value.get("$ref") == ref:
            return True
        return any(_refers_to(v, ref) for k, v in value.items() if k != "schemas")
    if isinstance(value, list):
        return any(_refers_to(v, ref) for v in value)
    return False
