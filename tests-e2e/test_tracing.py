"""One trace from click to note: a lesson published through the gateway shows in
Jaeger as one trace, from content's request through its outbox and relay to ai-notes'
handling and its S3, embedding and LLM spans."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import pytest

from edvent_localstack.jaeger import JaegerClient

from .helpers import admin as bootstrap_admin
from .helpers import note_ready

pytestmark = pytest.mark.e2e

LESSON = """# Tides

## The pull of the moon

The moon's gravity pulls the ocean on the near side of the earth a little more than the
earth itself, and the earth a little more than the ocean on the far side: two bulges of
water, which the earth turns under once a day.

## Spring and neap tides

When sun and moon line up their pulls add up and the tides are highest; at right angles
they partly cancel and the range between high and low water is smallest.
"""


def spans_by_service(found: dict[str, Any]) -> dict[str, set[str]]:
    services = {key: process["serviceName"] for key, process in found["processes"].items()}
    names: dict[str, set[str]] = {}
    for span in found["spans"]:
        names.setdefault(services[span["processID"]], set()).add(span["operationName"])
    return names


async def test_a_lesson_publish_is_one_trace_from_content_through_the_relay_to_ai_notes(
    gateway, platform
):
    admin = await bootstrap_admin(gateway)
    course = await gateway.post(
        "/api/v1/courses", json={"title": "Oceans", "description": "d"}, headers=admin
    )
    assert course.status_code == 201, course.text
    lesson = await gateway.post(
        f"/api/v1/courses/{course.json()['id']}/lessons",
        json={"title": "Tides", "content_markdown": LESSON},
        headers=admin,
    )
    assert lesson.status_code == 201, lesson.text
    lesson_id = lesson.json()["id"]
    # The client starts the trace (as the web client's instrumentation would); the
    # gateway passes `traceparent` on with its request id.
    trace_id = secrets.token_hex(16)
    request_id = f"trace-e2e-{secrets.token_hex(4)}"
    publish = await gateway.post(
        f"/api/v1/lessons/{lesson_id}/publish",
        headers=admin
        | {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01", "X-Request-ID": request_id},
    )
    assert publish.status_code == 200, publish.text
    await note_ready(gateway, admin, lesson_id)

    jaeger = JaegerClient(platform.jaeger)
    wanted = {
        "content": {"POST /api/v1/lessons/{lesson_id}/publish", "content.lessons create",
                    "content.lessons publish"},
        "ai-notes": {"content.lessons process", "ai_notes.embed", "ai_notes.generate",
                     "S3.GetObject", "ai-notes.notes create"},
    }  # fmt: skip
    deadline = time.monotonic() + 60
    names: dict[str, set[str]] = {}
    found: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        found = await asyncio.to_thread(jaeger.trace, trace_id)
        names = spans_by_service(found) if found else {}
        if all(wanted[service] <= names.get(service, set()) for service in wanted):
            break
        await asyncio.sleep(0.5)
    assert all(wanted[service] <= names.get(service, set()) for service in wanted), names
    assert found is not None
    assert {span["traceID"] for span in found["spans"]} == {trace_id}
    # The gateway's request id is on content's server span.
    server = next(
        span for span in found["spans"]
        if span["operationName"] == "POST /api/v1/lessons/{lesson_id}/publish"
    )  # fmt: skip
    tags = {tag["key"]: tag["value"] for tag in server["tags"]}
    assert request_id in str(tags.get("http.request.header.x-request-id")), tags
    # ai-notes' handling hangs under the relay's publish and links to it (Jaeger shows
    # a parent that is also a link once, as FOLLOWS_FROM).
    ai_notes = next(k for k, p in found["processes"].items() if p["serviceName"] == "ai-notes")
    [publish_span] = [s for s in found["spans"] if s["operationName"] == "content.lessons publish"]
    [process] = [
        s for s in found["spans"]
        if s["operationName"] == "content.lessons process" and s["processID"] == ai_notes
    ]  # fmt: skip
    assert publish_span["spanID"] in {r["spanID"] for r in process["references"]}, process
