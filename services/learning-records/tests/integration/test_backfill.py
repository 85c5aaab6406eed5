"""`backfill --from`: the topics replayed make the same statements, by id, and no
duplicates."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from edvent_learning_records.cli import backfill
from edvent_learning_records.domain.statements import Mapper, statement_id
from edvent_localstack.pytest_plugin import eventually

from .test_statements import attempt_event


async def test_backfill_restores_missing_statements_with_the_same_ids(
    events: Any, lrs: Any, mapper: Mapper, sql: Any, make_settings: Callable[..., Any]
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    user = uuid.uuid4()
    event_id = await events.send(attempt_event(user))
    ids = [statement_id(event_id, "attempted"), statement_id(event_id)]

    def queued() -> bool:
        rows = sql("SELECT count(*) FROM learning_records.statements WHERE id = ANY(%s)", (ids,))
        return bool(rows[0][0] == 2)

    await eventually(queued, timeout=30)
    # As if the service had never seen the event: its statements are gone from here.
    await asyncio.to_thread(
        sql, "DELETE FROM learning_records.statements WHERE id = ANY(%s)", (ids,)
    )

    replayed = await backfill(make_settings(), since=since)
    assert replayed.applied >= 1
    assert queued()
    # Again: nothing new, nothing twice.
    await backfill(make_settings(), since=since)
    rows = sql("SELECT id FROM learning_records.statements WHERE id = ANY(%s)", (ids,))
    assert sorted(r[0] for r in rows) == sorted(ids)

    async def in_lrs() -> bool:
        stored = await lrs.of_agent(mapper.actor(user))
        return sorted(s["id"] for s in stored) == sorted(str(i) for i in ids)

    await eventually(in_lrs, timeout=30)
