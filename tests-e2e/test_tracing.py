"""One trace from click to note: a lesson published through the gateway shows in
Jaeger as one trace, from content's request through its outbox and relay to ai-notes'
handling and its S3, embedding and LLM spans; and our trace viewer, served at Jaeger's UI
address, lists that trace and shows it in Chromium (axe-core on each screen)."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from edvent_localstack.jaeger import JaegerClient

from .conftest import Platform
from .helpers import admin as bootstrap_admin
from .helpers import note_ready
from .test_web import AXE, CHROMIUM, TIMEOUT_MS, Visitor

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


SERVER_SPAN = "POST /api/v1/lessons/{lesson_id}/publish"


@dataclass(frozen=True)
class Published:
    trace_id: str
    request_id: str
    trace: dict[str, Any]  # as Jaeger's query API answers it, every wanted span in


@pytest.fixture(scope="module")
async def published(platform: Platform) -> Published:
    """A lesson published under a trace id of the test's choosing, once Jaeger holds
    that trace's spans from content's request to ai-notes' note."""
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as gateway:
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
        traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
        publish = await gateway.post(
            f"/api/v1/lessons/{lesson_id}/publish",
            headers=admin | {"traceparent": traceparent, "X-Request-ID": request_id},
        )
        assert publish.status_code == 200, publish.text
        await note_ready(gateway, admin, lesson_id)

    jaeger = JaegerClient(platform.jaeger)
    wanted = {
        "content": {SERVER_SPAN, "content.lessons create", "content.lessons publish"},
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
    return Published(trace_id, request_id, found)


async def test_a_lesson_publish_is_one_trace_from_content_through_the_relay_to_ai_notes(
    published: Published,
):
    found = published.trace
    assert {span["traceID"] for span in found["spans"]} == {published.trace_id}
    # The gateway's request id is on content's server span.
    server = next(span for span in found["spans"] if span["operationName"] == SERVER_SPAN)
    tags = {tag["key"]: tag["value"] for tag in server["tags"]}
    assert published.request_id in str(tags.get("http.request.header.x-request-id")), tags
    # ai-notes' handling hangs under the relay's publish and links to it (Jaeger shows
    # a parent that is also a link once, as FOLLOWS_FROM).
    ai_notes = next(k for k, p in found["processes"].items() if p["serviceName"] == "ai-notes")
    [publish_span] = [s for s in found["spans"] if s["operationName"] == "content.lessons publish"]
    [process] = [
        s for s in found["spans"]
        if s["operationName"] == "content.lessons process" and s["processID"] == ai_notes
    ]  # fmt: skip
    assert publish_span["spanID"] in {r["spanID"] for r in process["references"]}, process


async def test_the_trace_viewer_lists_opens_and_explains_that_trace(
    platform: Platform, published: Published
):
    if not Path(CHROMIUM).exists() or not AXE.exists():  # noqa: ASYNC240 (before any browser I/O)
        pytest.fail(f"no Chromium at {CHROMIUM} or no axe-core at {AXE}: `make test` makes both")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context(
                base_url=platform.jaeger, viewport={"width": 1280, "height": 900}
            )
            await context.add_init_script(path=str(AXE))
            context.set_default_timeout(TIMEOUT_MS)
            viewer = Visitor(context, await context.new_page())
            await look_through_the_viewer(viewer, published.trace_id, platform.jaeger)
            assert not viewer.console_errors, viewer.console_errors
        finally:
            await browser.close()


async def look_through_the_viewer(viewer: Visitor, trace_id: str, jaeger: str) -> None:
    page = viewer.page
    # Jaeger's UI address: pick a service, list its recent traces.
    await page.goto("/")
    await expect(page.get_by_role("heading", level=1, name="Traces")).to_be_visible()
    await page.get_by_label("Service", exact=True).select_option("content")
    # Probes' SQL and S3 calls are traces of their own (their request span is left out).
    await page.get_by_label("At most").select_option("100")
    await page.get_by_role("button", name="Find traces").click()
    listed = page.get_by_role("table", name="traces of content")
    await expect(listed).to_be_visible()
    await viewer.scan("trace-viewer-list")
    row = listed.get_by_role("row").filter(has_text=trace_id)
    link = row.get_by_role("link")
    await expect(link).to_have_text(f"content: {SERVER_SPAN}")
    await expect(row).to_contain_text("ai-notes (")

    # One trace as a waterfall: content's request, its outbox write, the relay's
    # publish, ai-notes' handling and its generation.
    await link.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"content: {SERVER_SPAN}")
    await expect(page.get_by_role("heading", level=1)).to_be_focused()
    spans = page.get_by_role("table", name="Spans")
    for name in (f"content {SERVER_SPAN}", "content content.lessons create",
                 "content content.lessons publish", "ai-notes content.lessons process",
                 "ai-notes ai_notes.generate"):  # fmt: skip
        await expect(spans.get_by_role("button", name=name, exact=True).first).to_be_visible()
    await viewer.scan("trace-viewer-trace")

    # A span's details, from the keyboard: ai-notes' handling links to the relay's publish.
    handling = spans.get_by_role("button", name="ai-notes content.lessons process", exact=True)
    await handling.focus()
    await page.keyboard.press("Enter")
    await expect(handling).to_have_attribute("aria-expanded", "true")
    details = page.locator(f"#{await handling.get_attribute('aria-controls')}")
    await expect(details.get_by_role("heading", level=3)).to_have_text(
        "ai-notes: content.lessons process"
    )
    attributes = details.get_by_role("table", name="Attributes of ai-notes: content.lessons")
    await expect(attributes).to_contain_text("messaging.destination.name")
    links = details.get_by_role("list").filter(has_text="follows from")
    await expect(links).to_contain_text("content: content.lessons publish")
    await viewer.scan("trace-viewer-span")
    # Following the link opens the relay's span and moves focus there.
    await links.get_by_role("button", name="content: content.lessons publish").click()
    publish = spans.get_by_role("button", name="content content.lessons publish", exact=True)
    await expect(publish).to_be_focused()
    await expect(publish).to_have_attribute("aria-expanded", "true")

    # The same trace opened by the id a service logged.
    await page.goto("/")
    await page.get_by_label("Trace ID").fill(trace_id)
    await page.get_by_label("Trace ID").press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"content: {SERVER_SPAN}")
    await expect(page).to_have_url(f"{jaeger}/trace/{trace_id}")
