"""Request and response bodies of the content API (CONTRACT.md, content)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from edvent_content.domain.content import clean_description, clean_title

Title = Annotated[str, Field(max_length=1000), AfterValidator(clean_title)]
Description = Annotated[str, Field(max_length=20_000), AfterValidator(clean_description)]


class CourseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title = Field(description="1 to 200 characters, trimmed.")
    description: Description = Field(default="", description="At most 10000 characters.")


class CourseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None


class CoursePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    title: str
    description: str
    is_published: bool
    owner_id: UUID
    created_at: datetime
    published_at: datetime | None = Field(description="When it was published; null for a draft.")
    updated_at: datetime


class CourseList(BaseModel):
    items: list[CoursePublic]
    next_cursor: str | None


class LessonCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title = Field(description="1 to 200 characters, trimmed.")
    content_markdown: str = Field(
        description="The Markdown body: not blank, at most 5 MiB as UTF-8 (else 413)."
    )
    order_index: int | None = Field(
        default=None,
        ge=0,
        lt=2**31,
        description="Position in the course (unique within it; 409 if taken). "
        "Left out: after the last lesson.",
    )


class LessonPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    course_id: UUID
    title: str
    order_index: int
    content_url: str = Field(description="The S3 object key of the current body.")
    content_sha256: str
    content_bytes: int
    published_at: datetime | None = Field(
        description="When the current body went live; null until the lesson is published."
    )
    created_at: datetime
    updated_at: datetime


class LessonList(BaseModel):
    items: list[LessonPublic]
    next_cursor: str | None


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem+json answers a route may give."""
    return {
        status: {
            "description": "RFC 9457 problem details",
            "content": {"application/problem+json": {"schema": {"type": "object"}}},
        }
        for status in statuses
    }
