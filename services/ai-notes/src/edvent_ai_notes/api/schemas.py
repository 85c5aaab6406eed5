"""Response bodies of the ai-notes API (CONTRACT.md, ai-notes)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class KeyConceptPublic(BaseModel):
    name: str
    definition: str


class NotePublic(BaseModel):
    lesson_id: UUID
    status: Literal["pending", "ready", "failed"] = Field(
        description="`pending` while notes are made for the lesson's newest body, `ready` "
        "once stored, `failed` when making them failed (see `failure_reason`). A lesson "
        "republished with new content keeps its previous notes, `ready`, until the new "
        "ones replace them whole."
    )
    summary_markdown: str | None = Field(
        description="Markdown, one short section per heading of the lesson; null until "
        "the first notes are ready. A failed note keeps the last good notes, if any."
    )
    key_concepts: list[KeyConceptPublic]
    generated_at: datetime | None
    model: str | None = Field(description="The model (or `local`) that wrote these notes.")
    failure_reason: str | None = Field(
        default=None, description="Why the last attempt failed; null unless `failed`."
    )


class NoteList(BaseModel):
    items: list[NotePublic]
    next_cursor: str | None


class SearchItem(BaseModel):
    lesson_id: UUID
    snippet: str = Field(description="`Heading > Subheading: the matching passage`.")
    score: float = Field(description="Reciprocal rank fusion score; higher is better.")
    heading_path: list[str] = Field(description="The headings above the passage.")


class SearchResults(BaseModel):
    items: list[SearchItem]


class RegenerateAccepted(BaseModel):
    lesson_id: UUID
    status: Literal["pending"]
