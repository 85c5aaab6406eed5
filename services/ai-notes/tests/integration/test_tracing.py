"""The producer's trace survives ai-notes' handling and its outbox (tracing on, spans
in memory): notes.generated continues the trace of the lesson.published it answers."""

from __future__ import annotations

from typing import Any

from edvent_localstack.pytest_plugin import eventually
from edvent_localstack.testing import assert_outbox_continues, traceparent_header

from .physics import LESSONS


def staged(sql: Any, lesson_id: Any) -> list[Any]:
    return sql("SELECT traceparent FROM ai_notes.outbox WHERE key = %s", (str(lesson_id),))


async def test_the_trace_of_a_published_lesson_survives_to_notes_generated(
    content, people, sql, spans
):
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body=LESSONS["Gravity and orbits"])
    incoming, _ = traceparent_header()
    await content.send(event, traceparent=incoming)

    await eventually(lambda: len(staged(sql, event.lesson_id)) == 1)
    trace_id = int(incoming[3:35], 16)
    # The handling span ends just after its transaction committed the row. Wait for this
    # trace's: another test's message may have ended a `process` span already.
    await eventually(
        lambda: any(
            s.name.endswith(" process") and s.context.trace_id == trace_id
            for s in spans.get_finished_spans()
        )
    )
    [(stored,)] = staged(sql, event.lesson_id)
    assert_outbox_continues(spans, stored, incoming)
    in_trace = {s.name for s in spans.get_finished_spans() if s.context.trace_id == trace_id}
    assert {"ai_notes.read_body", "ai_notes.embed", "ai_notes.generate"} <= in_trace, in_trace
