"""The openai provider: the real openai SDK against a fake OpenAI-compatible server
started here (chat completions with structured output, and embeddings)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from edvent_ai_notes.adapters.providers import MalformedAnswer, ProviderUnavailable
from edvent_ai_notes.adapters.providers.openai import OpenAIProvider
from edvent_ai_notes.bootstrap import build_provider
from edvent_ai_notes.config import Settings
from edvent_ai_notes.db.notes import LessonRef
from edvent_ai_notes.domain.chunking import chunk_markdown
from edvent_ai_notes.domain.notes import LessonSource
from edvent_ai_notes.usecases.notes import Pipeline, prepare_notes
from edvent_localstack.process import free_port
from edvent_platform.db import transaction

from .physics import LESSONS

GOOD_NOTES = {
    "summary_markdown": "# Heat and entropy\n\n## Heat flows downhill\n\nHeat goes hot to cold.",
    "key_concepts": [
        {"name": "Entropy", "definition": "A count of the arrangements compatible with a state."}
    ],
}


@dataclass
class FakeOpenAI:
    """Answers in turn from `chat_answers` (status, headers, body); then good notes."""

    chat_answers: list[tuple[int, dict[str, str], Any]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    delay: float = 0.0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Any:
            body = await request.json()
            self.requests.append(("chat", body, time.monotonic()))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.delay)
            finally:
                self.in_flight -= 1
            if self.chat_answers:
                status, headers, content = self.chat_answers.pop(0)
                if status != 200:
                    return JSONResponse(
                        {"error": {"message": content, "type": "x"}},
                        status_code=status,
                        headers=headers,
                    )
            else:
                content = json.dumps(GOOD_NOTES)
            return {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"] + "-2025",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content, "refusal": None},
                    }
                ],
                "usage": {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366},
            }

        @app.post("/v1/embeddings")
        async def embeddings(request: Request) -> Any:
            body = await request.json()
            self.requests.append(("embeddings", body, time.monotonic()))
            dims = body["dimensions"]
            data = [
                {
                    "object": "embedding",
                    "index": i,
                    # Not normalised on purpose: the provider must normalise.
                    "embedding": [float((len(text) + j) % 7 + 1) for j in range(dims)],
                }
                for i, text in enumerate(body["input"])
            ]
            return {
                "object": "list",
                "data": list(reversed(data)),  # out of order on purpose
                "model": body["model"],
                "usage": {"prompt_tokens": 10, "total_tokens": 10},
            }

        return app


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield fake, f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


def provider_for(base_url: str, **overrides: Any) -> OpenAIProvider:
    values: dict[str, Any] = {
        "api_key": "sk-test",
        "base_url": base_url,
        "chat_model": "gpt-test",
        "embedding_model": "embed-test",
        "dimensions": 1536,
        "timeout": 10,
        "max_retries": 2,
        **overrides,
    }
    return OpenAIProvider(**values)


def lesson() -> LessonSource:
    markdown = LESSONS["Heat and entropy"]
    return LessonSource(
        title="Heat and entropy", markdown=markdown, chunks=tuple(chunk_markdown(markdown))
    )


async def test_notes_come_as_structured_output_with_their_usage(fake):
    server, url = fake
    provider = provider_for(url)
    try:
        note = await provider.generate_notes(lesson=lesson())
    finally:
        await provider.close()
    assert note.summary_markdown == GOOD_NOTES["summary_markdown"]
    assert [(c.name, c.definition) for c in note.key_concepts] == [
        ("Entropy", GOOD_NOTES["key_concepts"][0]["definition"])
    ]
    assert note.model == "gpt-test-2025"
    assert (note.usage.prompt_tokens, note.usage.completion_tokens) == (321, 45)
    [(kind, body, _)] = server.requests
    assert kind == "chat" and body["model"] == "gpt-test"
    schema = body["response_format"]
    assert schema["type"] == "json_schema" and schema["json_schema"]["strict"] is True
    assert schema["json_schema"]["schema"]["required"] == ["summary_markdown", "key_concepts"]
    assert "## Entropy" in body["messages"][1]["content"]


async def test_a_429_is_retried_after_the_time_retry_after_asks(fake):
    server, url = fake
    server.chat_answers = [(429, {"Retry-After": "1"}, "slow down")]
    provider = provider_for(url)
    try:
        note = await provider.generate_notes(lesson=lesson())
    finally:
        await provider.close()
    assert note.key_concepts[0].name == "Entropy"
    first, second = server.requests
    assert second[2] - first[2] >= 0.9  # Retry-After: 1, not the SDK's 0.5 s backoff


async def test_a_server_that_keeps_failing_is_unavailable_after_the_retries(fake):
    server, url = fake
    server.chat_answers = [(503, {"Retry-After": "0.05"}, "overloaded")] * 3
    provider = provider_for(url, max_retries=2)
    try:
        with pytest.raises(ProviderUnavailable, match="503"):
            await provider.generate_notes(lesson=lesson())
    finally:
        await provider.close()
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    "answer",
    [
        "{not json",
        json.dumps({"summary_markdown": "x"}),  # key_concepts missing
        json.dumps({**GOOD_NOTES, "key_concepts": [{"name": "Entropy"}]}),  # no definition
        json.dumps({**GOOD_NOTES, "key_concepts": [{"name": "E", "definition": "d", "x": 1}]}),
    ],
    ids=["bad-json", "missing-field", "concept-without-definition", "concept-not-in-schema"],
)
async def test_a_malformed_answer_raises_and_is_not_returned(fake, answer):
    server, url = fake
    server.chat_answers = [(200, {}, answer)]
    provider = provider_for(url)
    try:
        with pytest.raises(MalformedAnswer):
            await provider.generate_notes(lesson=lesson())
    finally:
        await provider.close()


async def test_embeddings_have_the_column_dimension_in_order_and_normalised(fake):
    server, url = fake
    provider = provider_for(url, embedding_batch_size=2)
    try:
        vectors = await provider.embed(["a", "bb", "ccc"])
    finally:
        await provider.close()
    assert [len(v) for v in vectors] == [1536] * 3
    assert all(abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-6 for v in vectors)
    assert vectors[0] != vectors[1]
    assert [len(body["input"]) for _, body, _ in server.requests] == [2, 1]
    assert {body["dimensions"] for _, body, _ in server.requests} == {1536}


async def test_requests_in_flight_stay_within_the_concurrency_limit(fake):
    server, url = fake
    server.delay = 0.1
    provider = provider_for(url, concurrency=2)
    try:
        await asyncio.gather(*(provider.generate_notes(lesson=lesson()) for _ in range(6)))
    finally:
        await provider.close()
    assert server.most_in_flight == 2


async def test_the_key_chooses_openai_and_its_absence_local(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert Settings().provider_name == "local"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-sdk-variable")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    settings = Settings()
    assert settings.provider_name == "openai"
    provider = build_provider(settings)
    assert isinstance(provider, OpenAIProvider)
    await provider.close()


async def test_the_pipeline_stores_the_openai_notes_with_their_token_usage(fake, app, content):
    server, url = fake
    ai_notes = app.state.ai_notes
    provider = provider_for(url)
    pipeline = Pipeline(
        sessions=ai_notes.sessions,
        bodies=ai_notes.bodies,
        provider=provider,
        options=ai_notes.pipeline.options,
    )
    lesson_id, course_id = uuid.uuid4(), uuid.uuid4()
    key, sha = content.put(LESSONS["Heat and entropy"], course_id=course_id, lesson_id=lesson_id)
    lesson = LessonRef(
        lesson_id=lesson_id,
        course_id=course_id,
        title="Heat and entropy",
        order_index=0,
        content_key=key,
        content_sha256=sha,
        published_at=datetime.now(UTC),
    )
    try:
        apply = await prepare_notes(pipeline=pipeline, lesson=lesson)
        async with transaction(ai_notes.sessions) as session:
            await apply(session)
    finally:
        await provider.close()
    async with ai_notes.sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT status, model, prompt_tokens, completion_tokens,"
                    " (SELECT count(*) FROM lesson_chunks c WHERE c.lesson_id = n.lesson_id)"
                    " FROM ai_notes n WHERE lesson_id = :id"
                ),
                {"id": lesson.lesson_id},
            )
        ).one()
    assert tuple(row) == ("ready", "gpt-test-2025", 321, 45, 2)
    assert [kind for kind, _, _ in server.requests] == ["embeddings", "chat"]
