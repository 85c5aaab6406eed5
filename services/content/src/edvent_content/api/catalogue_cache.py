"""The anonymous catalogue (`GET /api/v1/courses` without a token) answered from memory.

It is the platform's busiest read and the same for every anonymous caller, while
answering it afresh costs a session, a query and validating 20 courses. Each process
keeps the answers it gave, keyed by the exact query string, with the catalogue
version they were read at (`catalogue_version`, bumped by a trigger on every write to
`courses`). Every request still reads that version first (one cheap statement,
`edvent_content.db.catalogue`) and is answered from memory only when it is unchanged,
so no answer is ever staler than the database: a course published a moment ago is
listed by the next request on any process. The data is read after the version, so
an answer stored under a version is never older than it. Anything else (a token,
another path, an error answer, the database unreachable) goes to the route as before.

It sits inside the platform's request middleware, so request ids, access logs and
metrics are the same for answers from memory.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("edvent.content.catalogue_cache")

PATH = "/api/v1/courses"
# Bounds per process, so that a client walking through made-up query strings (every
# cursor is a new key) costs memory only up to here: the least recently used go.
MAX_ENTRIES = 256
MAX_BODY_BYTES = 256 * 1024
MAX_TOTAL_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Answer:
    version: int
    route: Any  # the matched route, for the metrics' route label
    headers: list[tuple[bytes, bytes]]
    body: bytes


class CatalogueCache:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.answers: OrderedDict[bytes, Answer] = OrderedDict()
        self.total_bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _anonymous_catalogue(scope):
            await self.app(scope, receive, send)
            return
        try:
            version = await scope["app"].state.content.catalogue_version.read()
        except Exception:  # noqa: BLE001 - the route answers (or fails) as without a cache
            logger.debug("catalogue version unreadable; answering without the cache")
            await self.app(scope, receive, send)
            return
        key = scope["query_string"]
        answer = self.answers.get(key)
        if answer is not None and answer.version == version:
            self.answers.move_to_end(key)
            scope["route"] = answer.route
            headers = list(answer.headers)  # the layers outside add their own to it
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": answer.body})
            return
        await self._answer_and_keep(scope, receive, send, key=key, version=version)

    async def _answer_and_keep(
        self, scope: Scope, receive: Receive, send: Send, *, key: bytes, version: int
    ) -> None:
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        size = 0

        async def keep(message: Message) -> None:
            nonlocal status, headers, size
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if size <= MAX_BODY_BYTES:
                    chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        if status == 200 and size <= MAX_BODY_BYTES:
            self._keep(key, Answer(version, scope.get("route"), headers, b"".join(chunks)))

    def _keep(self, key: bytes, answer: Answer) -> None:
        if (replaced := self.answers.pop(key, None)) is not None:
            self.total_bytes -= len(replaced.body)
        self.answers[key] = answer
        self.total_bytes += len(answer.body)
        while len(self.answers) > MAX_ENTRIES or self.total_bytes > MAX_TOTAL_BYTES:
            _, evicted = self.answers.popitem(last=False)
            self.total_bytes -= len(evicted.body)


def _anonymous_catalogue(scope: Scope) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] == "GET"
        and scope["path"] == PATH
        and not any(name.lower() == b"authorization" for name, _ in scope["headers"])
    )
