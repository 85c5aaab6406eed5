"""The catalogue cache's bounds and its rules of use, with a stand-in app (no I/O)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from edvent_content.api import catalogue_cache
from edvent_content.api.catalogue_cache import CatalogueCache


class Version:
    def __init__(self) -> None:
        self.value = 1

    async def read(self) -> int:
        return self.value


class Route:
    """Answers 200 with `body_size` bytes, or `status`; counts its calls."""

    def __init__(self, *, body_size: int = 10, status: int = 200) -> None:
        self.calls = 0
        self.body_size = body_size
        self.status = status

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"x" * self.body_size})


def scope(version: Version, query: bytes = b"", **extra: Any) -> dict[str, Any]:
    app = SimpleNamespace(state=SimpleNamespace(content=SimpleNamespace(catalogue_version=version)))
    return {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/courses",
        "query_string": query,
        "headers": [],
        "app": app,
        **extra,
    }


async def call(cache: CatalogueCache, request: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await cache(request, receive, send)
    return sent


async def test_an_answer_is_reused_until_the_version_changes() -> None:
    route, version = Route(), Version()
    cache = CatalogueCache(route)
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
    cache = CatalogueCache(route)
    for _ in range(2):
        await call(cache, scope(version, **request_extra))
    assert route.calls == 2 and not cache.answers


async def test_error_answers_and_large_bodies_are_not_kept() -> None:
    version = Version()
    for route in (Route(status=422), Route(body_size=catalogue_cache.MAX_BODY_BYTES + 1)):
        cache = CatalogueCache(route)
        for _ in range(2):
            await call(cache, scope(version))
        assert route.calls == 2 and not cache.answers


async def test_the_least_recently_used_answers_go_past_the_entry_bound(monkeypatch) -> None:
    monkeypatch.setattr(catalogue_cache, "MAX_ENTRIES", 3)
    route, version = Route(), Version()
    cache = CatalogueCache(route)
    for query in (b"a", b"b", b"c", b"a", b"d"):
        await call(cache, scope(version, query))
    assert list(cache.answers) == [b"c", b"a", b"d"]


async def test_the_least_recently_used_answers_go_past_the_byte_bound(monkeypatch) -> None:
    monkeypatch.setattr(catalogue_cache, "MAX_TOTAL_BYTES", 250)
    route, version = Route(body_size=100), Version()
    cache = CatalogueCache(route)
    for n in range(5):
        await call(cache, scope(version, b"cursor=%d" % n))
    assert list(cache.answers) == [b"cursor=3", b"cursor=4"]
    assert cache.total_bytes == 200
    version.value = 2
    await call(cache, scope(version, b"cursor=4"))  # replaced, not counted twice
    assert cache.total_bytes == 200
