"""The `openai` provider: the openai SDK against OpenAI or any compatible server.

- Retries: the SDK's own, on connection errors, timeouts, 408/409/429 and 5xx, waiting
  as `Retry-After` says (up to 60 s) or backing off exponentially (0.5 s doubling, at
  most 8 s); `max_retries` of them per request. What is still failing then raises
  `ProviderUnavailable`, and the pipeline's attempt fails (the consumer retries it).
- At most `concurrency` requests of this process are in flight at once.
- Notes come as structured output: the SDK's `parse` sends `NotesAnswer`'s strict JSON
  schema as the response format and validates the answer with it; anything else
  (and a cut-off or filtered answer) raises `MalformedAnswer` and is not stored.
- Embeddings are asked for at the pgvector column's dimension (`dimensions=`).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Annotated

import openai
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from edvent_ai_notes.adapters.providers import MalformedAnswer, ProviderUnavailable
from edvent_ai_notes.domain.notes import GeneratedNote, KeyConcept, LessonSource, Usage

# The lesson as sent to the model is cut at this many characters (about 12k tokens).
MAX_LESSON_CHARS = 48_000
MAX_CONTEXT_CHARS = 8_000

SYSTEM_PROMPT = """\
You write study notes for one lesson of an online course, for the students taking it.
Answer with JSON matching the given schema:
- summary_markdown: a Markdown summary that keeps the lesson's structure: one short \
section per heading of the lesson (same heading text and level), each with the few \
points a student must remember, in plain sentences or bullet points. No preamble.
- key_concepts: the 3 to 12 most important concepts of the lesson, each with its name \
as the lesson writes it and a one- or two-sentence definition faithful to the lesson.
Use only what the lesson and the related excerpts say; do not invent facts.\
"""


def _length(low: int, high: int | None = None) -> AfterValidator:
    """A length check the model's JSON schema leaves out: OpenAI's strict structured
    output refuses schemas with `minLength` or `maxLength`."""

    def check(value: str) -> str:
        if len(value) < low or (high is not None and len(value) > high):
            raise ValueError(f"must have {low} to {high or 'any number of'} characters")
        return value

    return AfterValidator(check)


class _Concept(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, _length(1, 200)]
    definition: Annotated[str, _length(1, 2000)]


class NotesAnswer(BaseModel):
    """What the model must answer: the SDK sends its JSON schema as the strict response
    format and parses the answer into it (`chat.completions.parse`)."""

    model_config = ConfigDict(extra="forbid")

    summary_markdown: Annotated[str, _length(1)]
    key_concepts: list[_Concept]


class OpenAIProvider:
    name = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None,
        chat_model: str,
        embedding_model: str,
        dimensions: int,
        timeout: float = 60.0,
        max_retries: int = 4,
        concurrency: int = 4,
        embedding_batch_size: int = 64,
    ) -> None:
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self.chat_model = chat_model
        self.embedding_model = embedding_model
        self._dimensions = dimensions
        self._limit = asyncio.Semaphore(concurrency)
        self._batch = embedding_batch_size

    @property
    def dimensions(self) -> int:
        return self._dimensions

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        batches = [list(texts[i : i + self._batch]) for i in range(0, len(texts), self._batch)]
        results = await asyncio.gather(*(self._embed_batch(batch) for batch in batches))
        return [vector for batch in results for vector in batch]

    async def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        async with self._limit:
            try:
                response = await self._client.embeddings.create(
                    model=self.embedding_model,
                    input=texts,
                    dimensions=self._dimensions,
                    encoding_format="float",
                )
            except openai.APIError as exc:
                raise ProviderUnavailable(_describe(exc)) from exc
        items = sorted(response.data, key=lambda item: item.index)
        if len(items) != len(texts):
            raise MalformedAnswer(f"{len(items)} embeddings for {len(texts)} texts")
        vectors = []
        for item in items:
            if len(item.embedding) != self._dimensions:
                raise MalformedAnswer(
                    f"an embedding has {len(item.embedding)} dimensions, not {self._dimensions}"
                )
            vectors.append(_normalised(item.embedding))
        return vectors

    async def generate_notes(self, *, lesson: LessonSource) -> GeneratedNote:
        async with self._limit:
            try:
                response = await self._client.chat.completions.parse(
                    model=self.chat_model,
                    messages=[
                        {"role": "system", "content": SYSTEM_PROMPT},
                        {"role": "user", "content": _prompt(lesson)},
                    ],
                    response_format=NotesAnswer,
                    temperature=0.2,
                )
            except openai.APIError as exc:
                raise ProviderUnavailable(_describe(exc)) from exc
            except openai.LengthFinishReasonError as exc:
                raise MalformedAnswer("the answer was cut off at the token limit") from exc
            except openai.ContentFilterFinishReasonError as exc:
                raise MalformedAnswer("the answer was stopped by the content filter") from exc
            except ValidationError as exc:
                errors = "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}"
                    for e in exc.errors()[:3]
                )
                raise MalformedAnswer(errors) from exc
        if not response.choices:
            raise MalformedAnswer("the answer has no choices")
        message = response.choices[0].message
        if message.refusal:
            raise MalformedAnswer(f"the model refused: {message.refusal[:200]}")
        answer = message.parsed
        if answer is None:
            raise MalformedAnswer("the answer is empty")
        usage = response.usage
        return GeneratedNote(
            summary_markdown=answer.summary_markdown,
            key_concepts=tuple(
                KeyConcept(name=c.name, definition=c.definition) for c in answer.key_concepts
            ),
            model=response.model or self.chat_model,
            usage=Usage(
                prompt_tokens=usage.prompt_tokens if usage else 0,
                completion_tokens=usage.completion_tokens if usage else 0,
            ),
        )

    async def close(self) -> None:
        await self._client.close()


def _prompt(lesson: LessonSource) -> str:
    parts = [f"# Lesson: {lesson.title}\n", lesson.markdown[:MAX_LESSON_CHARS]]
    related = [c for c in lesson.context if c.lesson_title != lesson.title]
    if related:
        parts.append("\n\n# Related excerpts from other lessons of the course\n")
        used = 0
        for chunk in related:
            excerpt = (
                f"\n## {chunk.lesson_title} > {' > '.join(chunk.heading_path)}\n{chunk.text}\n"
            )
            if used + len(excerpt) > MAX_CONTEXT_CHARS:
                break
            parts.append(excerpt)
            used += len(excerpt)
    return "".join(parts)


def _describe(error: openai.APIError) -> str:
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}{f' ({status})' if status else ''}: {error.message[:300]}"


def _normalised(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]
