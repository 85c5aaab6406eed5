"""The notes pipeline: body → chunks → embeddings → context → notes → one transaction.

Three steps, each in the caller's hands (the consumer of `lesson.published`, the note
jobs): `admit_notes` in a unit of work of the caller's, committed so that the note
reads `pending`; `prepare_notes`, the slow part (S3, embeddings, generation) with no
transaction open, returning `apply(session)`; and that, in the caller's transaction
(the consumer's inbox transaction, or the job's). No step commits. Writing is
idempotent and all at once: the lesson's chunks are replaced and its note upserted
together, so readers see the old note or the new one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_ai_notes import metrics
from edvent_ai_notes.adapters.providers import (
    MalformedAnswer,
    NotesProvider,
    ProviderError,
    Unsummarisable,
)
from edvent_ai_notes.adapters.storage import LessonBodies
from edvent_ai_notes.db import jobs as jobs_db
from edvent_ai_notes.db import notes as notes_db
from edvent_ai_notes.db.jobs import ClaimedJob
from edvent_ai_notes.db.notes import LessonRef
from edvent_ai_notes.domain import access
from edvent_ai_notes.domain.access import Actor
from edvent_ai_notes.domain.chunking import chunk_markdown
from edvent_ai_notes.domain.errors import (
    BodyMissing,
    BodyTooLarge,
    NoteNotFound,
    RegenerateRateLimited,
    StorageUnavailable,
)
from edvent_ai_notes.domain.notes import (
    Chunk,
    GeneratedNote,
    KeyConcept,
    LessonSource,
    RetrievedChunk,
)
from edvent_ai_notes.limits import Limiter, estimated_tokens
from edvent_ai_notes.usecases.budget import Spend, TokenBudget
from edvent_events import tracing
from edvent_events.catalog.ai_notes import KeyConcept as EventKeyConcept
from edvent_events.catalog.ai_notes import NotesGenerated
from edvent_events.outbox import add_event

logger = logging.getLogger("edvent.ai_notes.pipeline")

Apply = Callable[[AsyncSession], Awaitable[None]]

MAX_CONCEPTS = 30
MAX_SUMMARY_CHARS = 50_000


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    max_lesson_bytes: int = 1024 * 1024
    chunk_max_chars: int = 1200
    chunk_overlap_chars: int = 150
    related_chunks_per_section: int = 2
    own_chunks_per_section: int = 2


@dataclass(frozen=True, slots=True)
class Pipeline:
    """What the pipeline needs, built once (bootstrap.py)."""

    sessions: async_sessionmaker[AsyncSession]
    bodies: LessonBodies
    provider: NotesProvider
    options: PipelineOptions
    # Generations in flight in this process (consumer and note jobs together).
    generation: Limiter = field(default_factory=lambda: Limiter(name="generation", slots=4))
    budget: TokenBudget = field(default_factory=TokenBudget)


async def nothing(session: AsyncSession) -> None:
    return None


class AttemptFailed(Exception):  # noqa: N818 - named for what happened
    """`prepare_notes` failed in a way worth retrying (provider, storage). The caller
    commits `record` (the note `failed` with the reason, and any tokens spent) in a
    unit of work of its own, then retries (raises `error` again, or backs the job off)."""

    def __init__(self, error: ProviderError | StorageUnavailable, record: Apply) -> None:
        super().__init__(str(error))
        self.error = error
        self.record = record


async def admit_notes(
    *, session: AsyncSession, lesson: LessonRef, force: bool = False
) -> Apply | None:
    """Before the slow part, in the caller's unit of work: `None` when this publication
    needs notes made, and then its note reads `pending` once the caller commits; else
    what to apply instead in the final transaction (nothing, or the reference row only).
    """
    if await notes_db.is_deleted(session, lesson_id=lesson.lesson_id):
        return nothing  # lesson.deleted came first: the delete wins
    known = await notes_db.state(session, lesson_id=lesson.lesson_id)
    if known is not None and known.published_at > lesson.published_at:
        return nothing  # a newer publication was seen; this one is history
    if (
        not force
        and known is not None
        and known.status == "ready"
        and known.note_sha256 == lesson.content_sha256
    ):
        # The same body again: nothing to compute, the reference row may still change.
        return _record_only(lesson)
    if not await notes_db.record_lesson(session, lesson=lesson):
        return nothing
    await notes_db.add_pending(session, lesson_id=lesson.lesson_id, sha256=lesson.content_sha256)
    return None


async def prepare_notes(*, pipeline: Pipeline, lesson: LessonRef) -> Apply:
    """The slow part for one publication of a lesson (S3, embeddings, generation), in no
    transaction: it only reads. Returns what the caller applies in its transaction.
    A failure that would repeat (no body, too large a body, a lesson the provider
    cannot summarise) is settled there (the note `failed`); one worth retrying raises
    `AttemptFailed`."""
    if await pipeline.budget.spent(pipeline.sessions):
        metrics.BUDGET_POSTPONED.labels(pipeline.budget.provider).inc()
        return _postpone(lesson, until=pipeline.budget.resumes_at())
    spend: Spend | None = None
    try:
        with tracing.span(
            "ai_notes.read_body", attributes={"ai_notes.content_key": lesson.content_key}
        ):
            body = await pipeline.bodies.read(key=lesson.content_key)
        if len(body) > pipeline.options.max_lesson_bytes:
            raise BodyTooLarge(
                f"the lesson body has {len(body)} bytes; notes are made of at most "
                f"{pipeline.options.max_lesson_bytes}"
            )
        async with pipeline.generation.slot():
            chunks, vectors, generated = await _compute(pipeline=pipeline, lesson=lesson, body=body)
        spend = pipeline.budget.count(
            usage=generated.usage,
            embedding_tokens=estimated_tokens(*(embedding_text(c) for c in chunks)),
            requests=2 if chunks else 1,
        )
        note = validated(generated)
    except (BodyMissing, BodyTooLarge, Unsummarisable) as exc:
        return _spending(pipeline, spend, _fail(lesson, failure_reason(exc)))
    except (ProviderError, StorageUnavailable) as exc:
        record = _spending(pipeline, spend, _fail(lesson, failure_reason(exc)))
        raise AttemptFailed(exc, record) from exc
    return _spending(pipeline, spend, _store(lesson, chunks, vectors, note))


def _spending(pipeline: Pipeline, spend: Spend | None, then: Apply) -> Apply:
    """`then`, after recording the tokens the attempt spent (whatever became of it)."""
    if spend is None:
        return then

    async def apply(session: AsyncSession) -> None:
        await pipeline.budget.record(session, spend=spend)
        await then(session)

    return apply


async def _compute(
    *, pipeline: Pipeline, lesson: LessonRef, body: bytes
) -> tuple[list[Chunk], list[list[float]], GeneratedNote]:
    markdown = body.decode("utf-8", errors="replace")
    options = pipeline.options
    provider = pipeline.provider.name
    chunks, vectors = await embedded_chunks(
        provider=pipeline.provider, markdown=markdown, options=options
    )
    context = await _context(
        pipeline=pipeline, lesson=lesson, chunks=chunks, vectors=vectors, options=options
    )
    try:
        with metrics.llm_call(
            provider, "generate", **{"ai_notes.context_chunks": len(context)}
        ) as span:
            generated = await pipeline.provider.generate_notes(
                lesson=LessonSource(
                    title=lesson.title,
                    markdown=markdown,
                    chunks=tuple(chunks),
                    context=tuple(context),
                )
            )
            span.set_attribute("gen_ai.usage.input_tokens", generated.usage.prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", generated.usage.completion_tokens)
    except Exception:
        metrics.LLM_REQUESTS.labels(provider, "generate", "error").inc()
        raise
    metrics.LLM_REQUESTS.labels(provider, "generate", "ok").inc()
    return chunks, vectors, generated


async def embedded_chunks(
    *, provider: NotesProvider, markdown: str, options: PipelineOptions
) -> tuple[list[Chunk], list[list[float]]]:
    """The body's chunks and one embedding each (of the chunk under its headings)."""
    chunks = chunk_markdown(
        markdown, max_chars=options.chunk_max_chars, overlap=options.chunk_overlap_chars
    )
    vectors: list[list[float]] = []
    if chunks:
        try:
            with metrics.llm_call(provider.name, "embed", **{"ai_notes.chunks": len(chunks)}):
                vectors = await provider.embed([embedding_text(c) for c in chunks])
        except Exception:
            metrics.LLM_REQUESTS.labels(provider.name, "embed", "error").inc()
            raise
        metrics.LLM_REQUESTS.labels(provider.name, "embed", "ok").inc()
    if len(vectors) != len(chunks):
        raise MalformedAnswer(f"{len(vectors)} embeddings for {len(chunks)} chunks")
    return chunks, vectors


def failure_reason(error: Exception) -> str:
    match error:
        case Unsummarisable():
            return f"the lesson cannot be summarised: {error}"
        case BodyMissing() | BodyTooLarge():
            return str(error)
        case MalformedAnswer():
            return f"the model's answer was not valid notes: {error}"
        case StorageUnavailable():
            return f"lesson storage is unavailable: {error}"
        case _:
            return f"the notes provider failed: {error}"


def embedding_text(chunk: Chunk) -> str:
    """What is embedded: the chunk under its headings, so a section's words count."""
    path = " > ".join(chunk.heading_path)
    return f"{path}\n\n{chunk.text}" if path else chunk.text


async def _context(
    *,
    pipeline: Pipeline,
    lesson: LessonRef,
    chunks: Sequence[Chunk],
    vectors: Sequence[Sequence[float]],
    options: PipelineOptions,
) -> list[RetrievedChunk]:
    """Per section: its most central chunks, and the closest chunks of other lessons of
    the course."""
    sections: dict[tuple[str, ...], list[int]] = {}
    for index, chunk in enumerate(chunks):
        sections.setdefault(chunk.heading_path, []).append(index)
    context: list[RetrievedChunk] = []
    async with pipeline.sessions() as session:
        for path, members in sections.items():
            centre = _normalised(
                [sum(col) for col in zip(*(vectors[i] for i in members), strict=True)]
            )
            ranked = sorted(members, key=lambda i: -_dot(centre, vectors[i]))
            context.extend(
                RetrievedChunk(
                    lesson_id=str(lesson.lesson_id),
                    lesson_title=lesson.title,
                    heading_path=path,
                    text=chunks[i].text,
                    score=_dot(centre, vectors[i]),
                )
                for i in ranked[: options.own_chunks_per_section]
            )
            if options.related_chunks_per_section:
                context.extend(
                    await notes_db.related_chunks(
                        session,
                        course_id=lesson.course_id,
                        lesson_id=lesson.lesson_id,
                        vector=centre,
                        limit=options.related_chunks_per_section,
                    )
                )
    return context


def validated(note: GeneratedNote) -> GeneratedNote:
    """The note as it may be stored; `MalformedAnswer` when it is not fit to store."""
    summary = note.summary_markdown.strip()
    if not summary:
        raise MalformedAnswer("the summary is empty")
    if len(summary) > MAX_SUMMARY_CHARS:
        raise MalformedAnswer(f"the summary is longer than {MAX_SUMMARY_CHARS} characters")
    concepts: list[KeyConcept] = []
    seen: set[str] = set()
    for concept in note.key_concepts:
        name, definition = concept.name.strip(), concept.definition.strip()
        if not name or not definition:
            raise MalformedAnswer("a key concept has no name or no definition")
        if name.lower() not in seen:
            seen.add(name.lower())
            concepts.append(KeyConcept(name=name, definition=definition))
    return GeneratedNote(
        summary_markdown=summary,
        key_concepts=tuple(concepts[:MAX_CONCEPTS]),
        model=note.model,
        usage=note.usage,
    )


def _postpone(lesson: LessonRef, *, until: datetime) -> Apply:
    """The budget is spent: the note stays `pending` and a job makes it once the budget
    returns (jobs.py), instead of failing or holding the consumer."""

    async def apply(session: AsyncSession) -> None:
        if not await _still_current(session, lesson):
            return
        await notes_db.add_pending(
            session, lesson_id=lesson.lesson_id, sha256=lesson.content_sha256
        )
        await jobs_db.add_job(session, lesson_id=lesson.lesson_id, reason="budget", run_after=until)
        logger.info("notes for lesson %s wait for the token budget", lesson.lesson_id)

    return apply


def _record_only(lesson: LessonRef) -> Apply:
    async def apply(session: AsyncSession) -> None:
        await notes_db.record_lesson(session, lesson=lesson)

    return apply


async def _still_current(session: AsyncSession, lesson: LessonRef) -> bool:
    """Record the publication; whether its body is still the lesson's newest (and the
    lesson not deleted). The row lock orders this write after any other for the lesson."""
    if not await notes_db.record_lesson(session, lesson=lesson):
        return False
    current = await notes_db.lesson(session, lesson_id=lesson.lesson_id, lock=True)
    return current is not None and current.content_sha256 == lesson.content_sha256


def _fail(lesson: LessonRef, reason: str) -> Apply:
    async def apply(session: AsyncSession) -> None:
        if not await _still_current(session, lesson):
            return  # a newer body arrived meanwhile; its own run decides
        await notes_db.add_pending(
            session, lesson_id=lesson.lesson_id, sha256=lesson.content_sha256
        )
        await notes_db.mark_failed(
            session, lesson_id=lesson.lesson_id, sha256=lesson.content_sha256, reason=reason
        )
        logger.warning("notes for lesson %s failed: %s", lesson.lesson_id, reason)

    return apply


def _store(
    lesson: LessonRef, chunks: list[Chunk], vectors: list[list[float]], note: GeneratedNote
) -> Apply:
    async def apply(session: AsyncSession) -> None:
        if not await _still_current(session, lesson):
            return
        generated_at = datetime.now(UTC)
        await notes_db.replace_chunks(
            session,
            lesson_id=lesson.lesson_id,
            course_id=lesson.course_id,
            chunks=chunks,
            vectors=vectors,
        )
        await notes_db.store_ready(
            session,
            lesson_id=lesson.lesson_id,
            sha256=lesson.content_sha256,
            note=note,
            at=generated_at,
        )
        await add_event(
            session,
            NotesGenerated(
                lesson_id=lesson.lesson_id,
                course_id=lesson.course_id,
                model=note.model,
                key_concepts=[
                    EventKeyConcept(name=c.name, definition=c.definition) for c in note.key_concepts
                ],
                generated_at=generated_at,
            ),
        )

    return apply


# -- regenerate -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegenerateLimits:
    """Regenerate requests one caller may make per window (every replica together)."""

    per_window: int = 20
    window: timedelta = timedelta(minutes=10)


async def request_regeneration(
    *, session: AsyncSession, actor: Actor, lesson_id: UUID, limits: RegenerateLimits
) -> bool:
    """Queue a new run for the lesson (a note job) and mark its note pending; whether a
    new job was queued. While a run is pending, asking again changes nothing and is not
    counted: one job per lesson, whoever asks."""
    lesson = await notes_db.lesson(session, lesson_id=lesson_id, lock=True)
    found = await notes_db.facts(session, lesson_id=lesson_id)
    if lesson is None or found is None:
        raise NoteNotFound(str(lesson_id))
    access.check_may_regenerate(actor, found)
    if await jobs_db.job_exists(session, lesson_id=lesson_id):
        return False
    hits, started = await jobs_db.hit(
        session, key=f"regenerate:{actor.user_id}", window=limits.window
    )
    if hits > limits.per_window:
        metrics.LIMITER_REFUSED.labels("regenerate").inc()
        wait = started + limits.window - datetime.now(UTC)
        raise RegenerateRateLimited(retry_after=max(1, math.ceil(wait.total_seconds())))
    await notes_db.add_pending(session, lesson_id=lesson_id, sha256=lesson.content_sha256)
    await notes_db.mark_regenerating(session, lesson_id=lesson_id)
    await jobs_db.add_job(
        session, lesson_id=lesson_id, reason="regenerate", requested_by=actor.user_id
    )
    return True


async def job_failed(
    *, session: AsyncSession, job: ClaimedJob, failed: AttemptFailed, max_attempts: int
) -> None:
    """A job's attempt failed in a way worth retrying: the note reads `failed` with the
    reason, and the job is tried again with backoff up to `max_attempts`."""
    await failed.record(session)
    if job.attempts < max_attempts:
        backoff = timedelta(seconds=min(300, 5 * 2 ** (job.attempts - 1)))
        await jobs_db.retry_job(session, lesson_id=job.lesson_id, after=backoff)
    else:
        await jobs_db.finish_job(session, lesson_id=job.lesson_id)
    logger.warning("notes job for lesson %s failed (try %d)", job.lesson_id, job.attempts)


async def job_crashed(
    *, session: AsyncSession, job: ClaimedJob, lesson: LessonRef, error: Exception
) -> None:
    """An unexpected error: the note fails with it and the job is not tried again."""
    await _fail(lesson, f"{type(error).__name__}: {error}")(session)
    await jobs_db.finish_job(session, lesson_id=job.lesson_id)


async def job_done(*, session: AsyncSession, job: ClaimedJob, apply: Apply) -> None:
    # The lesson's locks before the job's row, in the order every writer takes them.
    await notes_db.lesson(session, lesson_id=job.lesson_id, lock=True)
    # Finished first: a postponement (budget spent) adds the job back.
    await jobs_db.finish_job(session, lesson_id=job.lesson_id)
    await apply(session)


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _normalised(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]
