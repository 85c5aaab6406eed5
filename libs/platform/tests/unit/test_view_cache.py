"""The view cache's bounds and its rules of use, with a stand-in app (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import pytest

from edvent_platform import view_cache
from edvent_platform.auth import Principal
from edvent_platform.view_cache import CachedView, UserRow, ViewCache

VIEWS = (
    CachedView("/api/v1/courses", anonymous=True, own={"owner": "me"}),
    CachedView("/api/v1/exams"),
)
KEY = b"/api/v1/courses?"


class Version:
    """The view version, and the users reference rows by id."""

    def __init__(self) -> None:
        self.value = 1
        self.users: dict[UUID, UserRow] = {}

    async def read(self) -> int:
        return self.value

    async def read_with_user(self, user_id: UUID) -> tuple[int, UserRow | None]:
        return self.value, self.users.get(user_id)


class Verifier:
    """Tokens are "<role>:<user id>"; anything else is refused."""

    async def verify(self, token: str) -> Principal:
        role, _, user_id = token.partition(":")
        if role not in {"STUDENT", "INSTRUCTOR", "ADMIN"}:
            raise ValueError("refused")
        return Principal(UUID(user_id), role, "jti", datetime.now(UTC))


class Route:
    """Answers 200 with `body_size` bytes, or `status`; counts its calls and keeps the
    request headers it saw."""

    def __init__(self, *, body_size: int = 10, status: int = 200) -> None:
        self.calls = 0
        self.headers: list[Any] = []
        self.body_size = body_size
        self.status = status

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        self.headers.append(scope["headers"])
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"x" * self.body_size})


def scope(version: Version, query: bytes = b"", **extra: Any) -> dict[str, Any]:
    app = SimpleNamespace(state=SimpleNamespace(view_version=version, token_verifier=Verifier()))
    return {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/courses",
        "query_string": query,
        "headers": [],
        "app": app,
        **extra,
    }


async def call(cache: ViewCache, request: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await cache(request, receive, send)
    return sent


async def test_an_answer_is_reused_until_the_version_changes() -> None:
    route, version = Route(), Version()
    cache = ViewCache(route, views=VIEWS)
    for _ in range(3):
        await call(cache, scope(version))
    assert route.calls == 1
    version.value = 2
    await call(cache, scope(version))
    assert route.calls == 2


@pytest.mark.parametrize(
    "request_extra",
    [
        {"headers": [(b"authorization", b"Bearer x")]},
        {"method": "POST"},
        {"path": "/api/v1/courses/1"},
    ],
)
async def test_other_requests_always_reach_the_route(request_extra: dict[str, Any]) -> None:
    route, version = Route(), Version()
    cache = ViewCache(route, views=VIEWS)
    for _ in range(2):
        await call(cache, scope(version, **request_extra))
    assert route.calls == 2 and not cache.answers


async def test_error_answers_and_large_bodies_are_not_kept() -> None:
    version = Version()
    for route in (Route(status=422), Route(body_size=view_cache.MAX_BODY_BYTES + 1)):
        cache = ViewCache(route, views=VIEWS)
        for _ in range(2):
            await call(cache, scope(version))
        assert route.calls == 2 and not cache.answers


async def test_the_least_recently_used_answers_go_past_the_entry_bound(monkeypatch) -> None:
    monkeypatch.setattr(view_cache, "MAX_ENTRIES", 3)
    route, version = Route(), Version()
    cache = ViewCache(route, views=VIEWS)
    for query in (b"a", b"b", b"c", b"a", b"d"):
        await call(cache, scope(version, query))
    assert list(cache.answers) == [KEY + b"c", KEY + b"a", KEY + b"d"]


async def test_the_least_recently_used_answers_go_past_the_byte_bound(monkeypatch) -> None:
    monkeypatch.setattr(view_cache, "MAX_TOTAL_BYTES", 250)
    route, version = Route(body_size=100), Version()
    cache = ViewCache(route, views=VIEWS)
    for n in range(5):
        await call(cache, scope(version, b"cursor=%d" % n))
    assert list(cache.answers) == [KEY + b"cursor=3", KEY + b"cursor=4"]
    assert cache.total_bytes == 200
    version.value = 2
    await call(cache, scope(version, b"cursor=4"))  # replaced, not counted twice
    assert cache.total_bytes == 200


def bearer(role: str, user_id: UUID | None = None) -> dict[str, Any]:
    token = f"{role}:{user_id or uuid4()}".encode()
    return {"headers": [(b"authorization", b"Bearer " + token)]}


async def test_students_share_a_signed_in_view_and_the_route_sees_their_token() -> None:
    route, version = Route(), Version()
    cache = ViewCache(route, views=VIEWS)
    exams = {"path": "/api/v1/exams", "query_string": b"course_id=1"}
    for _ in range(3):
        await call(cache, scope(version, **exams, **bearer("STUDENT")))
    assert route.calls == 1 and route.headers[0][0][0] == b"authorization"
    # Anonymous callers are the route's to refuse on a signed-in view; nothing is kept.
    await call(cache, scope(version, **{**exams, "query_string": b"course_id=2"}))
    assert route.calls == 2 and len(cache.answers) == 1


async def test_the_anonymous_view_is_made_without_the_students_token() -> None:
    route, version = Route(), Version()
    cache = ViewCache(route, views=VIEWS)
    await call(cache, scope(version, **bearer("STUDENT")))
    await call(cache, scope(version))
    assert route.calls == 1 and route.headers == [[]]


@pytest.mark.parametrize(
    "extra",
    [
        bearer("INSTRUCTOR"),
        bearer("ADMIN"),
        bearer("FORGED"),
        {"headers": [(b"authorization", b"Basic abc")]},
        {**bearer("STUDENT"), "query_string": b"owner=me"},
        {"path": "/api/v1/exams/1"},
        {"path": "/api/v1/courses/", "headers": []},
    ],
)
async def test_every_other_view_is_the_routes_to_answer(extra: dict[str, Any]) -> None:
    route, version = Route(), Version()
    cache = ViewCache(route, views=VIEWS)
    for _ in range(2):
        await call(cache, scope(version, **extra))
    assert route.calls == 2 and not cache.answers


async def test_the_role_and_session_the_service_knows_of_count_over_the_tokens() -> None:
    route, version = Route(), Version()
    cache = ViewCache(route, views=VIEWS)
    promoted, cut_off, erased = uuid4(), uuid4(), uuid4()
    later = datetime.now(UTC) + timedelta(seconds=5)
    version.users = {
        promoted: UserRow("INSTRUCTOR", later, None, False),
        cut_off: UserRow("STUDENT", None, later, False),
        erased: UserRow("STUDENT", None, None, True),
    }
    for user_id in (promoted, cut_off, erased):
        for _ in range(2):
            await call(cache, scope(version, **bearer("STUDENT", user_id)))
    assert route.calls == 6 and not cache.answers


async def test_the_callers_scope_names_the_route_for_metrics_hit_or_miss() -> None:
    class Routed(Route):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            scope["route"] = "the route"
            await super().__call__(scope, receive, send)

    route, version = Routed(), Version()
    cache = ViewCache(route, views=VIEWS)
    for _ in range(2):  # made without the student's token, then from memory
        request = scope(version, **bearer("STUDENT"))
        await call(cache, request)
        assert request["route"] == "the route"
    assert route.calls == 1
