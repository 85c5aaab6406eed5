"""The caller's trace survives assessment's outbox (tracing on, spans in memory)."""

from __future__ import annotations

from edvent_localstack.testing import assert_outbox_continues, traceparent_header


async def test_the_trace_of_an_exam_publication_survives_the_outbox(
    client, factory, people, sql, spans
):
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, questions=[factory.single("a")])
    incoming, header = traceparent_header()
    response = await client.post(
        f"/api/v1/exams/{exam['id']}/publish", headers=people.owner.auth | header
    )
    assert response.status_code == 200, response.text
    [(stored,)] = sql("SELECT traceparent FROM assessment.outbox WHERE key = %s", (exam["id"],))
    assert_outbox_continues(spans, stored, incoming)
