"""The caller's trace survives content's outbox (tracing on, spans in memory)."""

from __future__ import annotations

from edvent_localstack.testing import assert_outbox_continues, traceparent_header


async def test_the_trace_of_a_course_creation_survives_the_outbox(client, people, sql, spans):
    incoming, header = traceparent_header()
    response = await client.post(
        "/api/v1/courses",
        json={"title": "Traced", "description": "About it"},
        headers=people.owner.auth | header,
    )
    assert response.status_code == 201, response.text
    [(stored,)] = sql(
        "SELECT traceparent FROM content.outbox WHERE key = %s", (response.json()["id"],)
    )
    assert_outbox_continues(spans, stored, incoming)
