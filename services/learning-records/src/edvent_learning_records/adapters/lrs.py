"""Any conformant xAPI 1.0.3 Learning Record Store, through its statements resource.

POST /xAPI/statements takes a batch; an LRS that already holds a statement with the
same id keeps its copy (equal content: 200/204 without storing it twice; different
content: 409 for the whole batch). PUT ?statementId= takes one (204, or 409).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

XAPI_VERSION_HEADER = {"X-Experience-API-Version": "1.0.3"}


class Outcome(enum.Enum):
    STORED = "stored"  # 200 or 204: the LRS holds them now (or already did)
    CONFLICT = "conflict"  # 409: an id is known with other content
    FAILED = "failed"  # anything else: try again later


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    detail: str = ""


class LrsClient:
    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: str,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            auth=httpx.BasicAuth(username, password),
            headers=XAPI_VERSION_HEADER,
            timeout=timeout,
            transport=transport,
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def post(self, statements: Sequence[dict[str, Any]]) -> Answer:
        return await self._send("POST", "/xAPI/statements", json=list(statements))

    async def put(self, statement: dict[str, Any]) -> Answer:
        return await self._send(
            "PUT", "/xAPI/statements", params={"statementId": statement["id"]}, json=statement
        )

    async def get(self, *, params: dict[str, str]) -> dict[str, Any]:
        """One page of GET /xAPI/statements (tests and the tour read back with it)."""
        response = await self._client.get("/xAPI/statements", params=params)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def get_one(self, statement_id: UUID, *, voided: bool = False) -> dict[str, Any] | None:
        name = "voidedStatementId" if voided else "statementId"
        response = await self._client.get("/xAPI/statements", params={name: str(statement_id)})
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def _send(self, method: str, path: str, **kwargs: Any) -> Answer:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            return Answer(Outcome.FAILED, f"{type(exc).__name__}: {exc}")
        if response.status_code in (httpx.codes.OK, httpx.codes.NO_CONTENT):
            return Answer(Outcome.STORED)
        if response.status_code == httpx.codes.CONFLICT:
            return Answer(Outcome.CONFLICT, response.text[:500])
        return Answer(Outcome.FAILED, f"{response.status_code}: {response.text[:500]}")
