"""The settings every exam takes, fixed or adaptive (CONTRACT.md "Exam settings"). No I/O.

`ExamSettings` is the base of both modes' config models (`domain.adaptive`), so one
`ExamConfig` validates these keys with the adaptive ones, and every refusal is a 422
at the field's path (`["body", "config", "fixed", "max_attempts"]`). The defaults keep
the behaviour exams had before the settings: unlimited attempts, the highest grade,
answers shown after submitting, always open, in the author's order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

Grading = Literal["highest", "latest", "first", "average"]
Review = Literal["after_submit", "after_close", "never"]


def _whole_number(value: Any) -> Any:
    # JSON (and JSON Schema's `integer`) has one number type: 5.0 is the integer 5.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


def _rfc3339(value: Any) -> Any:
    # Lax datetime parsing would take a number as Unix time; the contract says RFC 3339.
    if value is not None and not isinstance(value, str | datetime):
        raise PydanticCustomError("rfc3339", "must be an RFC 3339 time with a zone, or null")
    return value


Time = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]


class ExamSettings(BaseModel):
    """Attempts allowed, grading, review, window and shuffling; see the fields."""

    # Declared here so that it comes first in the stored document; each mode narrows it.
    mode: str

    # Strict where a type could be coerced: `"1"` or `true` for max_attempts, `"yes"`
    # for a boolean are mistakes in the exam. Times are RFC 3339 strings in JSON, so
    # they are parsed (lax), and must carry a zone.
    # The bounds on the number itself, so the JSON Schema says them as minimum/maximum
    # of its integer branch (on the optional field they came out as unknown keywords).
    max_attempts: (
        Annotated[int, Field(ge=1, le=1000, strict=True), BeforeValidator(_whole_number)] | None
    ) = Field(
        default=None,
        description="Attempts a student may start (expired ones count); null: unlimited. "
        "A start past it is 409 (type .../max-attempts-reached).",
    )
    grading: Grading = Field(
        default="highest",
        description="How a student's closed attempts make one grade: the highest, the "
        "latest, the first score, or their average (rounded like scores).",
    )
    review: Review = Field(
        default="after_submit",
        description="When a student sees the correct option ids and which answers were "
        "right: after submitting; after `closes_at` has passed (or the course is "
        "archived); never. Score and passed are always shown; the course owner and "
        "ADMINs always see everything.",
    )
    opens_at: Time | None = Field(
        default=None, strict=False, description="No start before this (409); null: open."
    )
    closes_at: Time | None = Field(
        default=None,
        strict=False,
        description="No start from this time on (409); an attempt's deadline is never "
        "later. After `opens_at` when both are set.",
    )
    shuffle_questions: bool = Field(
        default=False,
        strict=True,
        description="Each attempt gets its own question order (fixed exams only: an "
        "adaptive exam chooses its questions one by one).",
    )
    shuffle_options: bool = Field(
        default=False, strict=True, description="Each attempt gets its own option order."
    )

    @field_validator("closes_at")
    @classmethod
    def _closes_after_opening(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        opens_at = info.data.get("opens_at")
        if value is not None and opens_at is not None and value <= opens_at:
            raise PydanticCustomError(
                "closes_before_opening",
                "must be later than opens_at ({opens_at}): the exam would never be open",
                {"opens_at": opens_at.isoformat()},
            )
        return value


def window_state(settings: ExamSettings, *, now: datetime) -> Literal["before", "open", "closed"]:
    """Where `now` (the database clock) stands against the exam's window."""
    if settings.opens_at is not None and now < settings.opens_at:
        return "before"
    if settings.closes_at is not None and now >= settings.closes_at:
        return "closed"
    return "open"


def review_allowed(settings: ExamSettings, *, attempt_closed: bool, exam_closed: bool) -> bool:
    """Whether the review policy lets the attempt's student see the answers now.
    `exam_closed`: `closes_at` has passed, or the course is archived."""
    if not attempt_closed:
        return False
    if settings.review == "after_submit":
        return True
    if settings.review == "after_close":
        return exam_closed
    return False
