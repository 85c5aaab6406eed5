"""/api/v1/notes: a lesson's notes, notes by concept, search, regenerate."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Query

from edvent_ai_notes.api.deps import AiNotesDep, CurrentUser, PageAfter, SessionDep
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
from edvent_ai_notes.usecases.search import search_chunks
from edvent_platform.cursor import encode_page_key
from edvent_platform.openapi import problem_responses

router = APIRouter(prefix="/api/v1/notes", tags=["notes"])

Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
# PostgreSQL text (and JSONB) cannot hold U+0000: such a query is refused (422), not
# left to fail in the database (a 500).
NO_NUL_PATTERN = r"^[^\x00]*$"


def _public(row: Any) -> NotePublic:
    return NotePublic(
        lesson_id=row.lesson_id,
        status=row.status,
        summary_markdown=row.summary_markdown,
        key_concepts=[KeyConceptPublic(**c) for c in row.key_concepts],
        generated_at=row.generated_at,
        model=row.model,
        failure_reason=row.failure_reason if row.status == "failed" else None,
    )


@router.get(
    "/search",
    summary="Search lesson passages (signed in)",
    description="Hybrid search: passages ranked by embedding similarity and by full-text "
    "rank, fused by reciprocal rank fusion; one item per lesson (its best passage), best "
    "first. `course_id` keeps to one course.",
)
async def search_passages(
    q: Annotated[
        str,
        Query(min_length=1, max_length=1000, pattern=NO_NUL_PATTERN, description="The question."),
    ],
    user: CurrentUser,
    session: SessionDep,
    ai_notes: AiNotesDep,
    course_id: UUID | None = None,
    limit: Limit = 10,
) -> SearchResults:
    hits = await search_chunks(
        session, provider=ai_notes.provider, query=q, course_id=course_id, limit=limit
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
    "case, newest first.",
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
    user: CurrentUser,
    session: SessionDep,
    after: PageAfter,
    limit: Limit = 20,
) -> NoteList:
    rows, last = await reading.notes_naming(
        session=session, concept=concept, limit=limit, after=after
    )
    return NoteList(
        items=[_public(r) for r in rows],
        next_cursor=encode_page_key(last) if last is not None else None,
    )


@router.get(
    "/{lesson_id}",
    responses=problem_responses(404),
    summary="A lesson's notes (signed in)",
    description="404 for a lesson never published.",
)
async def get_note(lesson_id: UUID, user: CurrentUser, session: SessionDep) -> NotePublic:
    return _public(await reading.note(session=session, lesson_id=lesson_id))


@router.post(
    "/{lesson_id}/regenerate",
    status_code=202,
    responses=problem_responses(403, 404),
    summary="Make a lesson's notes again (course owner, ADMIN)",
    description="The note turns `pending` at once, then `ready` (or `failed`) when done.",
)
async def regenerate_note(
    lesson_id: UUID,
    user: CurrentUser,
    session: SessionDep,
    ai_notes: AiNotesDep,
    background: BackgroundTasks,
) -> RegenerateAccepted:
    lesson = await notes_usecase.request_regeneration(
        session=session, lesson_id=lesson_id, user_id=user.user_id, is_admin=user.role == "ADMIN"
    )
    # Background tasks start after the request's unit of work committed the pending note.
    background.add_task(ai_notes.regenerate_later, lesson)
    return RegenerateAccepted(lesson_id=lesson_id, status="pending")
