"""Domain events as xAPI 1.0.3 statements: plain functions of one event, no I/O.

A statement depends only on the event it comes from (and the configured base URL), so
a replay of the same event yields the same statement, byte for byte: the LRS sees a
known id with equal content and keeps one copy. The mapping is listed in the README.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from uuid import UUID, uuid5

XAPI_VERSION: Final = "1.0.3"

# Statement ids are UUIDv5 of the event's ce_id in this namespace (itself
# uuid5(NAMESPACE_URL, "https://edvent.dev/xapi/statements")): never change it, or
# replays would make new statements.
STATEMENT_NAMESPACE: Final = UUID("760625b3-5da4-5520-8999-19fbc66e610c")

# ADL vocabulary (http://adlnet.gov/expapi/verbs/...), and the Activity Streams verb
# "updated" from the xAPI registry for a lesson's generated note.
ADL = "http://adlnet.gov/expapi/verbs/"
REGISTERED: Final = ADL + "registered"
SHARED: Final = ADL + "shared"
ATTEMPTED: Final = ADL + "attempted"
COMPLETED: Final = ADL + "completed"
TERMINATED: Final = ADL + "terminated"
VOIDED: Final = ADL + "voided"
UPDATED: Final = "http://activitystrea.ms/schema/1.0/update"

VERB_NAMES: Final[dict[str, str]] = {
    REGISTERED: "registered",
    SHARED: "shared",
    ATTEMPTED: "attempted",
    COMPLETED: "completed",
    TERMINATED: "terminated",
    VOIDED: "voided",
    UPDATED: "updated",
}

# ADL activity types.
LESSON: Final = "http://adlnet.gov/expapi/activities/lesson"
ASSESSMENT: Final = "http://adlnet.gov/expapi/activities/assessment"
COURSE: Final = "http://adlnet.gov/expapi/activities/course"

PLATFORM_NAME: Final = "Edvent"
# The account the platform itself acts as (voiding, generated notes).
PLATFORM_ACCOUNT: Final = "edvent"


@dataclass(frozen=True)
class Statement:
    """One statement to send: its id, the user it is about (None: the platform's own
    statements), and the xAPI JSON."""

    id: UUID
    user_id: UUID | None
    verb: str
    body: dict[str, Any]


def statement_id(event_id: str, part: str | None = None) -> UUID:
    """The statement id of an event: UUIDv5 of its ce_id; `part` names the second
    statement an event yields (an attempt's `attempted`)."""
    return uuid5(STATEMENT_NAMESPACE, event_id if part is None else f"{event_id}/{part}")


def xapi_time(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, the precision every LRS keeps."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def xapi_duration(length: timedelta) -> str:
    """ISO 8601 duration in seconds, to the hundredth (xAPI's recommended precision)."""
    seconds = max(length.total_seconds(), 0.0)
    return f"PT{seconds:.2f}S"


class Mapper:
    """Builds the statements for one platform base URL."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    # -- building blocks -----------------------------------------------------------

    def account(self, name: str) -> dict[str, Any]:
        return {"objectType": "Agent", "account": {"homePage": self.base_url, "name": name}}

    def actor(self, user_id: UUID) -> dict[str, Any]:
        # The user id, never an email or a name: the LRS keeps what it is given.
        return self.account(str(user_id))

    def platform(self) -> dict[str, Any]:
        return self.account(PLATFORM_ACCOUNT)

    @staticmethod
    def verb(iri: str) -> dict[str, Any]:
        return {"id": iri, "display": {"en-US": VERB_NAMES[iri]}}

    def activity(self, path: str, activity_type: str, name: str | None = None) -> dict[str, Any]:
        definition: dict[str, Any] = {"type": activity_type}
        if name:
            definition["name"] = {"en-US": name}
        return {"objectType": "Activity", "id": f"{self.base_url}/{path}", "definition": definition}

    def course(self, course_id: UUID) -> dict[str, Any]:
        return self.activity(f"courses/{course_id}", COURSE)

    def context(
        self, *, course_id: UUID | None = None, registration: UUID | None = None
    ) -> dict[str, Any]:
        context: dict[str, Any] = {"platform": PLATFORM_NAME, "language": "en-US"}
        if registration is not None:
            context["registration"] = str(registration)
        if course_id is not None:
            context["contextActivities"] = {"parent": [self.course(course_id)]}
        return context

    def extension(self, name: str) -> str:
        return f"{self.base_url}/xapi/extensions/{name}"

    @staticmethod
    def statement(
        *,
        id: UUID,
        actor: dict[str, Any],
        verb: str,
        object: dict[str, Any],
        timestamp: datetime,
        result: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": str(id),
            "actor": actor,
            "verb": Mapper.verb(verb),
            "object": object,
            "timestamp": xapi_time(timestamp),
            "version": XAPI_VERSION,
        }
        if result is not None:
            body["result"] = result
        if context is not None:
            body["context"] = context
        return body

    # -- one function per event type -----------------------------------------------

    def registered(self, *, event_id: str, user_id: UUID, at: datetime) -> Statement:
        sid = statement_id(event_id)
        body = self.statement(
            id=sid,
            actor=self.actor(user_id),
            verb=REGISTERED,
            object=self.activity("", "http://adlnet.gov/expapi/activities/profile", PLATFORM_NAME),
            timestamp=at,
            context=self.context(),
        )
        return Statement(sid, user_id, REGISTERED, body)

    def lesson_shared(
        self,
        *,
        event_id: str,
        author_id: UUID | None,
        lesson_id: UUID,
        course_id: UUID,
        title: str,
        at: datetime,
    ) -> Statement:
        sid = statement_id(event_id)
        body = self.statement(
            id=sid,
            # The course's owner published it; unknown (no course event seen yet):
            # the platform, which published it on their behalf.
            actor=self.actor(author_id) if author_id is not None else self.platform(),
            verb=SHARED,
            object=self.activity(f"lessons/{lesson_id}", LESSON, title),
            timestamp=at,
            context=self.context(course_id=course_id),
        )
        return Statement(sid, author_id, SHARED, body)

    def attempt(
        self,
        *,
        event_id: str,
        attempt_id: UUID,
        exam_id: UUID,
        course_id: UUID,
        user_id: UUID,
        status: str,
        score: int,
        passed: bool,
        started_at: datetime,
        completed_at: datetime,
    ) -> list[Statement]:
        """`attempted` at its start, then `completed` (submitted) or `terminated`
        (expired), with the score: the attempt id is the statements' registration."""
        exam = self.activity(f"exams/{exam_id}", ASSESSMENT)
        context = self.context(course_id=course_id, registration=attempt_id)
        actor = self.actor(user_id)
        started_id = statement_id(event_id, "attempted")
        started = self.statement(
            id=started_id,
            actor=actor,
            verb=ATTEMPTED,
            object=exam,
            timestamp=started_at,
            context=context,
        )
        verb = COMPLETED if status == "completed" else TERMINATED
        result = {
            "score": {"scaled": round(score / 100, 4), "raw": score, "min": 0, "max": 100},
            "success": passed,
            "completion": status == "completed",
            "duration": xapi_duration(completed_at - started_at),
        }
        ended_id = statement_id(event_id)
        ended = self.statement(
            id=ended_id,
            actor=actor,
            verb=verb,
            object=exam,
            timestamp=completed_at,
            result=result,
            context=context,
        )
        return [
            Statement(started_id, user_id, ATTEMPTED, started),
            Statement(ended_id, user_id, verb, ended),
        ]

    def note_generated(
        self,
        *,
        event_id: str,
        lesson_id: UUID,
        course_id: UUID,
        model: str,
        key_concepts: list[str],
        at: datetime,
    ) -> Statement:
        sid = statement_id(event_id)
        context = self.context(course_id=course_id)
        extensions: dict[str, Any] = {self.extension("model"): model}
        if key_concepts:
            extensions[self.extension("key-concepts")] = key_concepts
        context["extensions"] = extensions
        body = self.statement(
            id=sid,
            actor=self.platform(),
            verb=UPDATED,
            object=self.activity(f"lessons/{lesson_id}", LESSON),
            timestamp=at,
            context=context,
        )
        return Statement(sid, None, UPDATED, body)

    def voiding(self, *, event_id: str, voided: UUID, at: datetime) -> Statement:
        """The platform voids one statement of an erased user (xAPI 1.0.3 §2.3.2)."""
        sid = statement_id(event_id, f"voids/{voided}")
        body = self.statement(
            id=sid,
            actor=self.platform(),
            verb=VOIDED,
            object={"objectType": "StatementRef", "id": str(voided)},
            timestamp=at,
        )
        return Statement(sid, None, VOIDED, body)
