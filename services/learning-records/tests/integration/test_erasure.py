"""After `user.deleted`: the user's statements in the LRS are voided, what never left
is dropped, and nothing more is emitted about them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from ralph.models.xapi.base.statements import BaseXapiStatement

from edvent_events.catalog.identity import UserDeleted
from edvent_learning_records.domain.statements import VOIDED, Mapper, statement_id
from edvent_localstack.pytest_plugin import eventually

from .test_statements import attempt_event


async def test_erasure_voids_what_was_sent_and_stops_emitting(
    events: Any, lrs: Any, mapper: Mapper, sql: Any
) -> None:
    user = uuid.uuid4()
    attempt = await events.send(attempt_event(user))
    sent_ids = [statement_id(attempt, "attempted"), statement_id(attempt)]

    async def delivered() -> bool:
        return len(await lrs.of_agent(mapper.actor(user))) == 2

    await eventually(delivered, timeout=30)

    deleted = await events.send(UserDeleted(user_id=user, deleted_at=datetime.now(UTC)))
    voiding_ids = [statement_id(deleted, f"voids/{sid}") for sid in sent_ids]
    found: dict[uuid.UUID, dict[str, Any]] = {}

    async def voided() -> bool:
        for vid in voiding_ids:
            if vid not in found and (statement := await lrs.one(vid)) is not None:
                found[vid] = statement
        return len(found) == 2

    await eventually(voided, timeout=30)
    for vid, sid in zip(voiding_ids, sent_ids, strict=True):
        voiding = found[vid]
        BaseXapiStatement.model_validate(voiding)
        assert voiding["verb"]["id"] == VOIDED
        assert voiding["object"] == {"objectType": "StatementRef", "id": str(sid)}
        assert voiding["actor"] == mapper.platform()

    # A later (or replayed) event about the erased user makes no statement.
    late = await events.send(attempt_event(user))

    def handled() -> bool:
        return bool(sql("SELECT 1 FROM learning_records.inbox WHERE event_id = %s", (late,)))

    await eventually(handled, timeout=30)
    assert not sql(
        "SELECT 1 FROM learning_records.statements WHERE id = ANY(%s)",
        ([statement_id(late), statement_id(late, "attempted")],),
    )
