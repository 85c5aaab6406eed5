"""/api/v1/notes: a lesson's notes, notes by concept, search, regenerate."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Query

from edvent_ai_notes.api.deps import (
    AiNotesDep,
    PageAfter,
    ReadSessionDep,
    SessionDep,
    SignedIn,
    SignedInReading,
)
from edvent_ai_notes.api.schemas import (
    KeyConceptPublic,
    NoteList,
    NotePublic,
    RegenerateAccepted,
    SearchItem,
    SearchResults,
)
from edvent_ai_notes.usecases import notes as notes_usecase
from edvent_ai_notes.usecases import reading
from edvent_ai_notes.usecases.reading import NoteView
from edvent_ai_notes.usecases.search import search_chunks
from edvent_platform.cursor import encode_page_key
from edvent_platform.openapi import problem_responses

# The gateway limits /api/v1/notes per client address (deploy/gateway); regenerate
# also limits each caller. Either answers 429 with Retry-After.
RATE_LIMITED = problem_responses(
    429,
    descriptions={
        429: "Too many requests: the gateway's limit per client address, or (regenerate) "
        "the caller's own limit. Retry after `Retry-After` seconds."
    },
)
router = APIRouter(prefix="/api/v1/notes", tags=["notes"], responses=RATE_LIMITED)

Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
# PostgreSQL text (and JSONB) cannot hold U+0000: such a query is refused (422), not
# left to fail in the database (a 500).
NO_NUL_PATTERN = r"^[^\x00]*$"


def _public(view: NoteView) -> NotePublic:
    row = view.row
    return NotePublic(
        lesson_id=row.lesson_id,
        status=row.status,
        summary_markdown=row.summary_markdown,
        key_concepts=[KeyConceptPublic(**c) for c in row.key_concepts],
        generated_at=row.generated_at,
        model=row.model,
        # Storage keys and provider errors: for the course owner and ADMINs only.
        failure_reason=(
            row.failure_reason if row.status == "failed" and view.failure_details else None
        ),
    )


@router.get(
    "/search",
    summary="Search lesson passages (signed in)",
    description="Hybrid search: passages ranked by embedding similarity and by full-text "
    "rank, fused by reciprocal rank fusion; one item per lesson (its best passage), best "
    "first, among the lessons the caller may see. `course_id` keeps to one course. 503 with "
    "`Retry-After` when search's lane to the embedding provider is full.",
)
async def search_passages(
    q: Annotated[
        str,
        Query(min_length=1, max_length=1000, pattern=NO_NUL_PATTERN, description="The question."),
    ],
    actor: SignedIn,
    session: SessionDep,
    ai_notes: AiNotesDep,
    course_id: UUID | None = None,
    limit: Limit = 10,
) -> SearchResults:
    # The caller's role was read in a transaction of this session: end it, so that no
    # connection is held while the question waits for search's lane to the provider
    # (search_chunks embeds before its first statement).
    await session.rollback()
    hits = await search_chunks(
        session,
        queries=ai_notes.queries,
        actor=actor,
        query=q,
        course_id=course_id,
        limit=limit,
    )
    return SearchResults(
        items=[
            SearchItem(
                lesson_id=h.lesson_id,
                snippet=h.snippet,
                score=h.score,
                heading_path=list(h.heading_path),
            )
            for h in hits
        ]
    )


@router.get(
    "",
    summary="Notes naming a key concept (signed in)",
    description="Notes whose key concepts include `concept`, matched by name ignoring "
    "case, newest first, of the lessons the caller may see.",
)
async def list_notes_by_concept(
    concept: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            pattern=NO_NUL_PATTERN,
            description="A key concept's name, any case.",
        ),
    ],
    actor: SignedInReading,
    session: ReadSessionDep,
    after: PageAfter,
    limit: Limit = 20,
) -> NoteList:
    rows, last = await reading.notes_naming(
        session=session, actor=actor, concept=concept, limit=limit, after=after
    )
    return NoteList(
        items=[_public(r) for r in rows],
        next_cursor=encode_page_key(last) if last is not None else None,
    )


@router.get(
    "/{lesson_id}",
    responses=problem_responses(404),
    summary="A lesson's notes (signed in)",
    description="404 for a lesson never published or not visible to the caller "
    "(CONTRACT.md, who may see what). `failure_reason` only for the course owner and ADMIN.",
)
async def get_note(lesson_id: UUID, actor: SignedInReading, session: ReadSessionDep) -> NotePublic:
    return _public(await reading.note(session=session, actor=actor, lesson_id=lesson_id))


@router.post(
    "/{lesson_id}/regenerate",
    status_code=202,
    responses=problem_responses(403, 404),
    summary="Make a lesson's notes again (course owner, ADMIN)",
    description="The note turns `pending` at once, then `ready` (or `failed`) when done. "
    "While a run for the lesson is pending, asking again answers 202 and starts nothing. "
    "Each caller may ask a limited number of times per window (429 with `Retry-After`).",
)
async def regenerate_note(
    lesson_id: UUID,
    actor: SignedIn,
    session: SessionDep,
    ai_notes: AiNotesDep,
    background: BackgroundTasks,
) -> RegenerateAccepted:
    queued = await notes_usecase.request_regeneration(
        session=session, actor=actor, lesson_id=lesson_id, limits=ai_notes.regenerate_limits
    )
    if queued:
        # After the response, so after the request's unit of work committed the job.
        background.add_task(ai_notes.jobs.wake)
    return RegenerateAccepted(lesson_id=lesson_id, status="pending")
