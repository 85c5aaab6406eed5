"""The LRS down: statements wait in the service's database and go later, none lost,
none twice; a statement sent again (a crash before its row was marked) is answered
as known and still stored once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events.catalog.assessment import AttemptCompleted
from edvent_events.envelope import Envelope
from edvent_learning_records.bootstrap import LearningRecords
from edvent_learning_records.domain.statements import Mapper, statement_id
from edvent_learning_records.usecases import records, sending
from edvent_localstack.process import free_port
from edvent_localstack.pytest_plugin import eventually
from edvent_platform.db import create_engine, session_factory


def envelope_of(event: AttemptCompleted) -> Envelope[AttemptCompleted]:
    return Envelope(
        id=str(uuid.uuid4()),
        source=AttemptCompleted.source,
        type=AttemptCompleted.ce_type,
        time=datetime.now(UTC),
        subject=str(event.attempt_id),
        data=event,
    )


async def test_statements_wait_while_the_lrs_is_down_then_go_once(
    make_settings: Callable[..., Any], app: Any, sql: Any, lrs: Any, mapper: Mapper
) -> None:
    # A sender whose LRS does not answer (nothing listens there), with a long pause
    # after a failure so the app's own sender leaves the rows alone meanwhile.
    down = make_settings(lrs_url=f"http://127.0.0.1:{free_port()}", retry_base_seconds=600)
    engine = create_engine(down.database_url, schema=down.db_schema, app_name="test")
    service = LearningRecords.build(down, session_factory(engine))
    user = uuid.uuid4()
    ended = datetime.now(UTC)
    envelope = envelope_of(
        AttemptCompleted(
            attempt_id=uuid.uuid4(),
            exam_id=uuid.uuid4(),
            course_id=uuid.uuid4(),
            user_id=user,
            status="completed",
            score=55,
            passed=True,
            started_at=ended - timedelta(minutes=1),
            completed_at=ended,
        )
    )
    ids = [statement_id(envelope.id, "attempted"), statement_id(envelope.id)]

    @contextlib.asynccontextmanager
    async def recorded_then_claimed() -> AsyncIterator[AsyncSession]:
        # The statements are recorded in the sender's own transaction, so no other
        # sender (the app's runs on its own schedule) can take them before this one
        # has failed them: they are first seen by others with their retry 600 s away.
        async with service.transaction() as session:
            await records.record_attempt(session, mapper=service.mapper, envelope=envelope)
            yield session

    try:
        sent_now = await sending.send_due(
            transaction=recorded_then_claimed,
            lrs=service.lrs,
            batch_size=down.batch_size,
            retry=service.retry,
        )
        assert sent_now == 0
        rows = sql(
            "SELECT sent_at, attempts, last_error FROM learning_records.statements "
            "WHERE id = ANY(%s)",
            (ids,),
        )
        assert len(rows) == 2
        assert all(sent is None and attempts == 1 and error for sent, attempts, error in rows)
        assert await lrs.of_agent(mapper.actor(user)) == []
    finally:
        await service.lrs.close()
        await engine.dispose()

    # The LRS is back: the rows are due again, and the app's sender delivers them.
    await asyncio.to_thread(
        sql,
        "UPDATE learning_records.statements SET next_attempt_at = now() WHERE id = ANY(%s)",
        (ids,),
    )

    def sent() -> bool:
        rows = sql(
            "SELECT count(*) FROM learning_records.statements "
            "WHERE id = ANY(%s) AND sent_at IS NOT NULL",
            (ids,),
        )
        return bool(rows[0][0] == 2)

    await eventually(sent, timeout=30)
    assert len(await lrs.of_agent(mapper.actor(user))) == 2

    # As if the sender died after the LRS took them but before its commit: sent again,
    # the LRS answers that it knows them, and keeps one copy.
    await asyncio.to_thread(
        sql,
        "UPDATE learning_records.statements SET sent_at = NULL, last_error = NULL "
        "WHERE id = ANY(%s)",
        (ids,),
    )
    await eventually(sent, timeout=30)
    stored = await lrs.of_agent(mapper.actor(user))
    assert sorted(s["id"] for s in stored) == sorted(str(i) for i in ids)
