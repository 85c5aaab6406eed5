"""Request and response bodies of the content API (CONTRACT.md, content)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from edvent_content.domain.content import (
    DESCRIPTION_MAX,
    MAX_ORDER_INDEX,
    NO_NUL_PATTERN,
    NOT_BLANK_PATTERN,
    TITLE_MAX,
    clean_description,
    clean_title,
)
from edvent_platform.openapi import problem_responses

# The domain's rules, stated in the document too; the domain checks them.
Title = Annotated[
    str,
    Field(min_length=1, max_length=TITLE_MAX, json_schema_extra={"pattern": NOT_BLANK_PATTERN}),
    AfterValidator(clean_title),
]
Description = Annotated[
    str,
    Field(max_length=DESCRIPTION_MAX, json_schema_extra={"pattern": NO_NUL_PATTERN}),
    AfterValidator(clean_description),
]


class CourseCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"title": "Biology", "description": "Plants and cells"}]},
    )

    title: Title = Field(description=f"1 to {TITLE_MAX} characters, not blank; trimmed.")
    description: Description = Field(
        default="", description=f"At most {DESCRIPTION_MAX} characters; trimmed."
    )


class CourseUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"title": "Biology 101"}]}
    )

    title: Title | None = None
    description: Description | None = None
    owner_id: UUID | None = Field(
        default=None,
        description="ADMIN alone (else 403): move the course to this user, who must be "
        "known to content with the current role INSTRUCTOR or ADMIN and not erased "
        "(else 422). Publishes CourseOwnerChanged; the old owner keeps no rights.",
    )


class CoursePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    title: str
    description: str
    is_published: bool
    owner_id: UUID
    created_at: datetime
    published_at: datetime | None = Field(description="When it was published; null for a draft.")
    archived_at: datetime | None = Field(
        default=None,
        description="When it was archived (for good); null unless archived. An archived "
        "course is hidden from all but its owner and ADMIN, whatever `is_published` says.",
    )
    updated_at: datetime


class CourseList(BaseModel):
    items: list[CoursePublic]
    next_cursor: str | None


class LessonCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Photosynthesis",
                    "content_markdown": "# Photosynthesis\n\nPlants turn light into sugar.",
                    "order_index": 0,
                }
            ]
        },
    )

    title: Title = Field(description=f"1 to {TITLE_MAX} characters, not blank; trimmed.")
    content_markdown: str = Field(
        description="The Markdown body: not blank, at most 5 MiB as UTF-8 (else 413).",
        json_schema_extra={"pattern": NOT_BLANK_PATTERN},
    )
    order_index: int | None = Field(
        default=None,
        ge=0,
        le=MAX_ORDER_INDEX,
        description="Position in the course (unique within it; 409 if taken). "
        "Left out: after the last lesson (409 if that one is at the largest position).",
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
    return problem_responses(*statuses)
