"""Request and response bodies of the assessment API (CONTRACT.md, assessment)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from edvent_assessment.db.tables import Question
from edvent_assessment.domain import access, sheets
from edvent_assessment.domain.access import Actor
from edvent_assessment.domain.adaptive import FixedConfig
from edvent_assessment.domain.analytics import Summary
from edvent_assessment.domain.exams import (
    ExamConfig,
    ExamStatus,
    QuestionKind,
    check_question,
    parse_config,
)
from edvent_assessment.usecases.attempts import AttemptPage, AttemptView
from edvent_assessment.usecases.exams import ExamView
from edvent_platform.cursor import encode_page_key

MAX_DURATION_SECONDS = 7 * 24 * 3600


# What trimming removes: whitespace to Python (`str.isspace`) and to ECMAScript regular
# expressions (`\s`, which JSON Schema's `pattern` uses) alike, so the server and the
# documented pattern agree on what is blank.
_BLANK = (
    " \t\n\v\f\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# PostgreSQL text (and JSONB) cannot hold U+0000: text with it is refused (422), not
# left to fail in the database (a 500).
NO_NUL_PATTERN = r"^[^\x00]*$"
# No NUL, and a character that is not blank; read the same by ECMAScript and Python.
NOT_BLANK_PATTERN = r"^[^\x00]*[^\s\x1c-\x1f\x85\ufeff\x00][^\x00]*$"


def _not_blank(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain U+0000")
    value = value.strip(_BLANK)
    if not value:
        raise ValueError("must not be blank")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


# The pattern is documented, not run: `_not_blank` is the check (pydantic's own regex
# engine reads `\s` differently). `NO_NUL_PATTERN` alone pydantic runs as it reads.
Title = Annotated[
    str,
    Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK_PATTERN}),
    AfterValidator(_not_blank),
]
OptionId = Annotated[
    str,
    Field(min_length=1, max_length=64, json_schema_extra={"pattern": NOT_BLANK_PATTERN}),
    AfterValidator(_not_blank),
]


class ExamCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "course_id": "0b5c3d9e-6f1a-4c2b-8d7e-2a9f4e6b1c3d",
                    "title": "Photosynthesis quiz",
                    "duration_seconds": 1800,
                    "passing_score_percent": 60,
                },
                {
                    "course_id": "0b5c3d9e-6f1a-4c2b-8d7e-2a9f4e6b1c3d",
                    "title": "Placement test",
                    "duration_seconds": 3600,
                    "passing_score_percent": 50,
                    "config": {"mode": "adaptive", "model": "rasch", "max_items": 20},
                },
                {
                    "course_id": "0b5c3d9e-6f1a-4c2b-8d7e-2a9f4e6b1c3d",
                    "title": "Final exam",
                    "duration_seconds": 3600,
                    "passing_score_percent": 70,
                    "config": {
                        "max_attempts": 1,
                        "grading": "highest",
                        "review": "after_close",
                        "opens_at": "2026-12-14T09:00:00Z",
                        "closes_at": "2026-12-14T12:00:00Z",
                        "shuffle_questions": True,
                        "shuffle_options": True,
                    },
                },
            ]
        },
    )

    course_id: UUID
    title: Title = Field(description="1 to 200 characters, trimmed.")
    duration_seconds: int = Field(
        gt=0, le=MAX_DURATION_SECONDS, description="Time allowed per attempt (at most 7 days)."
    )
    passing_score_percent: int = Field(ge=0, le=100)
    config: ExamConfig = Field(
        default_factory=FixedConfig,
        description='`{}` or `{"mode": "fixed"}`: every question, submitted at once. '
        '`{"mode": "adaptive", "model", "min_items", "max_items", "target_standard_error", '
        '"start_ability", "estimator", "prior_mean", "prior_sd", "exposure_top_k"}`: one '
        "question at a time, chosen by item response theory (see the service README). "
        "Both modes take the exam settings `max_attempts`, `grading`, `review`, "
        "`opens_at`, `closes_at`, `shuffle_questions` (fixed only) and `shuffle_options`. "
        "An unknown mode or key, or a value out of range, is 422 with the field's path "
        '(`["body", "config", "fixed", "max_attempts"]`); so is `max_items` below '
        "`min_items` (5 when not given), at `max_items`, `closes_at` not after `opens_at`, "
        "at `closes_at`, and `shuffle_questions: true` on an adaptive exam.",
    )


class OptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: OptionId
    text: str = Field(min_length=1, max_length=2000, pattern=NO_NUL_PATTERN)


class QuestionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            # What JSON Schema can say of the rules; unique option ids and correct ids
            # among the options it cannot, and the server checks them (422).
            "if": {"properties": {"kind": {"const": "single_choice"}}},
            "then": {"properties": {"correct_option_ids": {"maxItems": 1}}},
            "examples": [
                {
                    "prompt": "What absorbs the light?",
                    "kind": "single_choice",
                    "options": [{"id": "a", "text": "Water"}, {"id": "b", "text": "Chlorophyll"}],
                    "correct_option_ids": ["b"],
                    "points": 2,
                    "difficulty": 0.5,
                }
            ],
        },
    )

    prompt: str = Field(min_length=1, max_length=10_000, pattern=NO_NUL_PATTERN)
    kind: QuestionKind
    options: list[OptionIn] = Field(min_length=2, max_length=26)
    correct_option_ids: list[OptionId] = Field(
        min_length=1,
        max_length=26,
        json_schema_extra={"uniqueItems": True},
        description="Among the options' ids, without repeats; exactly one for single_choice.",
    )
    points: int = Field(default=1, ge=1, le=1000, description="Weight in the score.")
    difficulty: Annotated[float, AfterValidator(_finite)] = Field(
        default=0, ge=-10, le=10, description="Author's estimate on a logit scale (0: average)."
    )
    discrimination: Annotated[float, Field(gt=0, le=10), AfterValidator(_finite)] | None = Field(
        default=None,
        description="IRT discrimination a > 0, used by 2PL adaptive exams (null: 1).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_question(
            kind=self.kind,
            option_ids=[option.id for option in self.options],
            correct_option_ids=self.correct_option_ids,
        )
        return self


class Option(BaseModel):
    id: str
    text: str


class QuestionPublic(BaseModel):
    id: UUID
    exam_id: UUID
    position: int
    prompt: str
    kind: QuestionKind
    options: list[Option]
    points: int
    difficulty: float
    discrimination: float | None = None
    correct_option_ids: list[str] | None = Field(
        description="Only for the course's owner and ADMINs; null for everyone else."
    )


class ExamPublic(BaseModel):
    id: UUID
    course_id: UUID
    title: str
    duration_seconds: int
    passing_score_percent: int
    config: dict[str, Any]
    status: ExamStatus
    question_count: int
    published_at: datetime | None
    created_at: datetime


class ExamDetail(ExamPublic):
    questions: list[QuestionPublic] = Field(description="In order (`position`).")


class ExamList(BaseModel):
    items: list[ExamPublic]
    next_cursor: str | None


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: UUID
    # Repeats, or no option at all, are refused too (422), so the schema says so.
    option_ids: list[Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL_PATTERN)]] = (
        Field(
            min_length=1,
            max_length=26,
            json_schema_extra={"uniqueItems": True},
            description="The chosen options' ids: one for single_choice.",
        )
    )


class AnswerBody(AnswerIn):
    """One answer to an adaptive attempt's current question."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"question_id": "5f0e7c2a-3b1d-4e8f-9a6c-1d2e3f4a5b6c", "option_ids": ["b"]}
            ]
        }
    )


class SubmitBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "answers": [
                        {
                            "question_id": "5f0e7c2a-3b1d-4e8f-9a6c-1d2e3f4a5b6c",
                            "option_ids": ["b"],
                        },
                        {
                            "question_id": "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                            "option_ids": ["a", "c"],
                        },
                    ]
                }
            ]
        },
    )

    answers: list[AnswerIn] = Field(
        max_length=1000,
        description="At most one answer per question; questions left out count as wrong.",
    )


class AttemptQuestion(BaseModel):
    """A question as the student sees it: no correct answers."""

    question_id: UUID
    position: int
    prompt: str
    kind: QuestionKind
    options: list[Option]
    points: int


class SheetEntry(AttemptQuestion):
    """A question as served, with the answer given and, when shown, how it was graded."""

    correct_option_ids: list[str] | None = Field(
        description="Shown to the student once the attempt is closed and as the exam's "
        "`review` setting allows (`after_submit`: then; `after_close`: once `closes_at` "
        "has passed or the course is archived; `never`); to the course's owner and ADMINs "
        "always; else null."
    )
    answer: list[str] | None = Field(description="The option ids given; null if none.")
    correct: bool | None = Field(
        description="Null while the attempt is open, and shown like `correct_option_ids`."
    )
    ability: float | None = Field(
        default=None,
        description="Adaptive exams: the ability estimate (logits) after this answer; shown "
        "like `correct`.",
    )
    standard_error: float | None = Field(
        default=None, description="Adaptive exams: its standard error; shown like `correct`."
    )


class AttemptPublic(BaseModel):
    id: UUID
    exam_id: UUID
    user_id: UUID
    status: Literal["in_progress", "completed", "expired"]
    score: int | None = Field(
        description="Integer percent of points earned, rounded down; adaptive exams: the "
        "expected percent correct over the whole bank at the final ability."
    )
    passed: bool | None
    started_at: datetime
    deadline: datetime = Field(description="`started_at` + the exam's duration; 30 s grace.")
    completed_at: datetime | None
    questions: list[AttemptQuestion] = Field(
        description="Adaptive exams: the questions served so far, in serving order."
    )
    answer_sheet: list[SheetEntry]
    ability: float | None = Field(
        default=None, description="Adaptive exams, once completed: the final ability (logits)."
    )
    standard_error: float | None = Field(
        default=None, description="Adaptive exams, once completed: its standard error."
    )


class AnswerResult(BaseModel):
    attempt: AttemptPublic
    next_question: AttemptQuestion | None = Field(
        description="The question to answer next; null once a stop rule held and the "
        "attempt is completed."
    )


class AttemptList(BaseModel):
    items: list[AttemptPublic]
    next_cursor: str | None


class QuestionRatePublic(BaseModel):
    question_id: UUID
    correct_rate: float | None = Field(
        description="Share (0 to 1) of submitted attempts that got it right; null before any."
    )
    discrimination: float | None = Field(
        default=None,
        description="Point-biserial correlation (-1 to 1) of getting this question right "
        "with the rest of the score (the points of the other questions); null with fewer "
        "than 2 submitted attempts or when either never varies. Below 0.2 the question "
        "hardly tells strong from weak students.",
    )
    option_counts: dict[str, int] = Field(
        default_factory=dict,
        description="How many submitted attempts chose each option (`{option_id: count}`).",
    )
    difficulty: float | None = Field(default=None, description="The author's difficulty.")
    irt_discrimination: float | None = Field(
        default=None,
        description="The author's IRT discrimination a (null: 1); named apart from "
        "`discrimination`, the point-biserial of classical test theory.",
    )
    calibrated_difficulty: float | None = Field(
        default=None,
        description="Estimated from completed attempts by calibration; null until then.",
    )
    calibrated_discrimination: float | None = Field(default=None)
    calibration_sample_size: int | None = Field(
        default=None, description="How many answers the calibrated values rest on."
    )


class HistogramBin(BaseModel):
    lower: int = Field(description="Lowest score in the bin (percent).")
    upper: int = Field(description="Highest score in the bin (percent).")
    count: int


class AnalyticsPublic(BaseModel):
    exam_id: UUID
    attempts_completed: int = Field(description="Submitted attempts.")
    attempts_expired: int = Field(description="Attempts closed as expired; not in the rates.")
    average_score: float | None = Field(description="Mean score (percent); null before any.")
    pass_rate: float | None = Field(description="Share (0 to 1) that passed; null before any.")
    reliability_alpha: float | None = Field(
        default=None,
        description="Cronbach's alpha of the submitted attempts (internal consistency, at "
        "most 1); null for adaptive exams, with fewer than 2 questions or 2 attempts, or "
        "when the total score never varies.",
    )
    score_histogram: list[HistogramBin] = Field(
        default_factory=list,
        description="Submitted attempts' scores in ten bins of 10 points (the last one "
        "holds 90 to 100).",
    )
    questions: list[QuestionRatePublic]

    @classmethod
    def of(cls, exam_id: UUID, summary: Summary) -> AnalyticsPublic:
        return cls(exam_id=exam_id, **summary.model_dump())


def exam_public(exam: Any, question_count: int) -> ExamPublic:
    return ExamPublic(
        id=exam.id,
        course_id=exam.course_id,
        title=exam.title,
        duration_seconds=exam.duration_seconds,
        passing_score_percent=exam.passing_score_percent,
        # Parsed, so that every setting shows with its default, also in exams stored
        # before the setting existed.
        config=parse_config(exam.config).model_dump(mode="json"),
        status=exam.status,
        question_count=question_count,
        published_at=exam.published_at,
        created_at=exam.created_at,
    )


def exam_detail(view: ExamView, actor: Actor) -> ExamDetail:
    reveal = access.may_manage(actor, view.owner_id)
    return ExamDetail(
        **exam_public(view.exam, len(view.questions)).model_dump(),
        questions=[question_public(q, reveal=reveal) for q in view.questions],
    )


def question_public(question: Question, *, reveal: bool) -> QuestionPublic:
    return QuestionPublic(
        id=question.id,
        exam_id=question.exam_id,
        position=question.position,
        prompt=question.prompt,
        kind=question.kind,
        options=[Option.model_validate(option) for option in question.options],
        points=question.points,
        difficulty=question.difficulty,
        discrimination=question.discrimination,
        correct_option_ids=list(question.correct_option_ids) if reveal else None,
    )


def attempt_public(view: AttemptView, actor: Actor) -> AttemptPublic:
    attempt = view.attempt
    closed = attempt.status != "in_progress"
    reveal = access.sees_correct_answers(
        actor, owner_id=view.owner_id, attempt_closed=closed, review_allows=view.review_allows
    )
    items = sheets.load(attempt.answer_sheet)
    questions = [attempt_question(item) for item in items]
    return AttemptPublic(
        id=attempt.id,
        exam_id=attempt.exam_id,
        user_id=attempt.user_id,
        status=attempt.status,
        score=attempt.score,
        passed=attempt.passed,
        started_at=attempt.started_at,
        deadline=attempt.deadline,
        completed_at=attempt.completed_at,
        ability=attempt.ability,
        standard_error=attempt.standard_error,
        questions=questions,
        answer_sheet=[
            SheetEntry(
                **dict(question),
                correct_option_ids=item.correct_option_ids if reveal else None,
                answer=item.answer,
                correct=item.correct if reveal else None,
                ability=item.ability if reveal else None,
                standard_error=item.standard_error if reveal else None,
            )
            for question, item in zip(questions, items, strict=True)
        ],
    )


def attempt_list(page: AttemptPage, actor: Actor) -> AttemptList:
    views, next_key = page
    return AttemptList(
        items=[attempt_public(view, actor) for view in views],
        next_cursor=encode_page_key(next_key) if next_key else None,
    )


def attempt_question(item: sheets.SheetItem) -> AttemptQuestion:
    return AttemptQuestion(
        question_id=item.question_id,
        position=item.position,
        prompt=item.prompt,
        kind=item.kind,
        options=[Option(id=o.id, text=o.text) for o in item.options],
        points=item.points,
    )


class GradePublic(BaseModel):
    user_id: UUID
    attempts: int = Field(description="Attempts started, expired ones included.")
    grade: int | None = Field(
        description="By the exam's `grading`, from the closed attempts (an expired one is "
        "0); null until one is closed."
    )
    passed: bool | None = Field(description="`grade >= passing_score_percent`.")
    last_completed_at: datetime | None


class GradeList(BaseModel):
    items: list[GradePublic]
    next_cursor: str | None


class OwnGradePublic(BaseModel):
    attempts: int = Field(description="Attempts started, expired ones included.")
    attempts_left: int | None = Field(description="Null when attempts are unlimited.")
    grade: int | None
    passed: bool | None
