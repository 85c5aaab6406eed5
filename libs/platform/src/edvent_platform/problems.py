"""RFC 9457 problem details: the one error shape every service answers with.

Domain code raises `Problem` subclasses; one set of handlers per app turns them,
validation failures and unexpected errors into `application/problem+json`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger(__name__)

# Python 3.11 still names these by RFC 7231; our own problems use RFC 9110's names.
RFC_9110_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


class Problem(Exception):  # noqa: N818 - it is the RFC's word
    status: int = 500
    title: str = "Internal Server Error"
    type: str = "about:blank"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extra = extra or {}


class BadRequest(Problem):
    status, title = 400, "Bad Request"


class Unauthorized(Problem):
    status, title = 401, "Unauthorized"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(Problem):
    status, title = 403, "Forbidden"


class NotFound(Problem):
    status, title = 404, "Not Found"


class Conflict(Problem):
    status, title = 409, "Conflict"


class PayloadTooLarge(Problem):
    status, title = 413, "Content Too Large"


class UnprocessableContent(Problem):
    status, title = 422, "Unprocessable Content"


class TooManyRequests(Problem):
    status, title = 429, "Too Many Requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        super().__init__(detail, **kwargs)


class ServiceUnavailable(Problem):
    """Shedding load or waiting on a dependency: the client may retry after a while."""

    status, title = 503, "Service Unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        super().__init__(detail, **kwargs)


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    type_: str = "about:blank",
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    body.update(extra or {})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def as_response(problem: Problem) -> JSONResponse:
    return problem_response(
        problem.status,
        problem.title,
        problem.detail,
        type_=problem.type,
        headers=problem.headers,
        extra=problem.extra,
    )


E = TypeVar("E", bound=Exception)


def map_domain_errors(
    app: FastAPI, error_type: type[E], to_problem: Callable[[E], Problem]
) -> None:
    """Answer a service's domain errors as problems: its one exception mapping."""

    async def handle(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, error_type)
        return as_response(to_problem(exc))

    app.add_exception_handler(error_type, handle)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return as_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg"), "type": err.get("type")}
            for err in exc.errors()
        ]
        return problem_response(
            422,
            "Unprocessable Content",
            "The request is not valid; see errors.",
            extra={"errors": errors},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's only 400: a JSON body it could not read (not UTF-8, say). For
            # clients that is malformed input like any other, answered 422.
            return problem_response(
                422,
                "Unprocessable Content",
                "The request body is not valid UTF-8 JSON.",
                extra={
                    "errors": [{"loc": ["body"], "msg": "not UTF-8 JSON", "type": "json_invalid"}]
                },
            )
        if exc.status_code == 405:
            # Starlette's Allow names only the first route with this path; RFC 9110 wants
            # every method the resource supports (GET /x and PATCH /x are two routes).
            allowed = _allowed_methods(request)
            return problem_response(
                405,
                "Method Not Allowed",
                f"{request.method} is not supported here; see Allow.",
                headers={"Allow": ", ".join(allowed)},
            )
        try:
            title = RFC_9110_TITLES.get(exc.status_code) or HTTPStatus(exc.status_code).phrase
        except ValueError:
            title = "Error"
        return problem_response(
            exc.status_code, title, str(exc.detail), headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(PoolTimeoutError)
    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        # The database is restarting, unreachable or out of connections: the client is
        # not at fault and may retry, as /readyz says meanwhile. Other database errors
        # (a broken statement, a violated constraint the code did not expect) stay 500s.
        if isinstance(exc, DBAPIError) and not (
            exc.connection_invalidated or _is_connection_error(exc.orig)
        ):
            return await _unexpected(request, exc)
        logger.warning("database unavailable: %s", type(exc.__cause__ or exc).__name__)
        return as_response(
            ServiceUnavailable("The database is not reachable right now.", retry_after=5)
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return problem_response(500, "Internal Server Error", "An unexpected error occurred.")


def _allowed_methods(request: Request) -> list[str]:
    """Every method of the resource the path names: the routes sharing the path template
    of the first route whose path matches, as Starlette dispatches (`/users/me` before
    `/users/{id}`)."""
    routes = list(iter_route_contexts(request.app.router.routes))
    template = next(
        (
            route.path_format
            for route in routes
            if route.matches(dict(request.scope))[0] is not Match.NONE
        ),
        None,
    )
    return sorted(
        {
            method
            for route in routes
            if route.path_format == template
            for method in route.methods or ()
        }
    )


def _is_connection_error(error: BaseException | None) -> bool:
    """psycopg's OperationalError covers a lost or refused connection and a server
    shutting down (SQLSTATE class 08, 57P0x); deadlocks and serialization failures are
    its subclasses too but come with their own SQLSTATE (class 40) and stay 500s."""
    if not isinstance(error, psycopg.OperationalError):
        return False
    sqlstate = error.sqlstate
    # None: refused or lost before the server said anything.
    return sqlstate is None or sqlstate.startswith(("08", "57P"))
