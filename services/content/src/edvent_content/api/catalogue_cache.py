"""The anonymous catalogue (`GET /api/v1/courses` without a token) answered from memory.

It is the platform's busiest read and the same for every anonymous caller, while
answering it afresh costs a session, a query and validating 20 courses. Each process
keeps the answers it gave, keyed by the exact query string, with the catalogue
version they were read at (`catalogue_version`, bumped by a trigger on every write to
`courses`). Every request still reads that version first (one cheap statement,
`edvent_content.db.catalogue`) and is answered from memory only when it is unchanged,
so no answer is ever staler than the database: a course published a moment ago is
listed by the next request on any process. The data is read after the version, so
an answer stored under a version is never older than it. Anything else (another
path, an error answer, the database unreachable) goes to the route as before.

A signed-in caller whose role that counts is STUDENT sees exactly the anonymous view
(`domain.access.course_filter`: no drafts, not even their own), so they get the same
answer. Their token is verified as the route would, and one statement reads the
version with their users row (session cut-off, erasure, role changed since the
token); anything else (an instructor or ADMIN, whose view is their own, `owner=me`,
a token refused or unreadable) goes to the route, which answers or refuses it as
before. No answer is ever kept for, or given to, any other view.

It sits inside the platform's request middleware, so request ids, access logs and
metrics are the same for answers from memory.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edvent_content.domain.access import Role
from edvent_platform.auth import current_role, session_ended

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
        if not _catalogue(scope):
            await self.app(scope, receive, send)
            return
        token = _bearer_token(scope)
        if token is None:
            try:
                version = await scope["app"].state.content.catalogue_version.read()
            except Exception:  # noqa: BLE001 - the route answers (or fails) as without a cache
                logger.debug("catalogue version unreadable; answering without the cache")
                await self.app(scope, receive, send)
                return
        else:
            signed_in_version = await _student_version(scope, token)
            if signed_in_version is None:  # not the anonymous view, or not sure of it
                await self.app(scope, receive, send)
                return
            version = signed_in_version
            # The route makes the anonymous answer, which is this caller's view too.
            scope = {
                **scope,
                "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"authorization"],
            }
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


def _catalogue(scope: Scope) -> bool:
    return bool(scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == PATH)


def _bearer_token(scope: Scope) -> str | None:
    """None without an Authorization header; "" for one that is not a single bearer
    token (left to the route, which decides as it always did)."""
    values = [value for name, value in scope["headers"] if name.lower() == b"authorization"]
    if not values:
        return None
    scheme, _, token = values[0].decode("latin-1").partition(" ")
    return token.strip() if len(values) == 1 and scheme.lower() == "bearer" else ""


async def _student_version(scope: Scope, token: str) -> int | None:
    """The catalogue version when the token is valid and the role that counts for its
    user is STUDENT (whose view is the anonymous one); None for anything else, which
    the route then answers (or refuses) itself."""
    if not token or "me" in parse_qs(scope["query_string"].decode("latin-1")).get("owner", []):
        return None
    state = scope["app"].state
    try:
        principal = await state.token_verifier.verify(token)
        version, row = await state.content.catalogue_version.read_with_user(principal.user_id)
        if row is not None:
            session_ended(principal, not_before=row.not_before, deleted=row.deleted)
        role = current_role(
            principal,
            known_role=row.role if row else None,
            changed_at=row.role_changed_at if row else None,
        )
    except Exception:  # noqa: BLE001 - refused, or unreadable: the route decides
        return None
    return version if role == Role.STUDENT else None
