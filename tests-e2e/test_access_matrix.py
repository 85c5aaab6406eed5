"""CONTRACT.md "Who may see what", through the gateway: every endpoint, every caller.

The expected outcomes come from one place, `access_cases.yaml` (thing x state x caller);
the table below only says which request reaches which thing in which state. Identity's
endpoints are not about things but roles: their outcomes are written in the table.

The world is built once for the module: two instructors each own the same set of
things (the owner's, and those of an instructor demoted to STUDENT once they are built,
who keeps the INSTRUCTOR token issued before). Reads run first, in parallel, and are
asked again until they hold or SETTLE seconds passed: what the services learn from
events (course published, demotion) reaches them within seconds. Changes run after,
one at a time; those that would change a thing other rows read act, for the callers
allowed to, on a fresh thing made for them (`scratch`). Every row is a test of its own.

Lists, searches and concept lists are checked for absence: each lesson carries a
made-up word; what a caller may not see never comes back to them.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from .helpers import PASSWORD, Account, create_exam, note_ready, register, set_role, until

pytestmark = pytest.mark.e2e

CASES_FILE = Path(__file__).with_name("access_cases.yaml")
_CASES = yaml.safe_load(CASES_FILE.read_text())
CALLERS: tuple[str, ...] = tuple(_CASES["callers"])
OUTCOMES: dict[tuple[str, frozenset[tuple[str, str]]], dict[str, str]] = {
    (case["thing"], frozenset(case["state"].items())): case["outcomes"] for case in _CASES["cases"]
}
# How long event-fed state may take to show (the contract says "within seconds").
SETTLE = 20.0
# How long the world may wait for ai-notes (a loaded machine is slow to make notes).
NOTES_WAIT = 180.0
CONCURRENCY = 8

# The status of a plain outcome; `allowed` is the endpoint's own success status.
STATUS = {"visible": 200, "not_found": 404, "forbidden": 403, "unauthorized": 401,
          "bad_request": 400}  # fmt: skip

State = tuple[tuple[str, str], ...]


def st(**state: str) -> State:
    return tuple(state.items())


NONE = st()
COURSES = (st(course="draft"), st(course="published"), st(course="archived"))
# `draft` lessons were never published; `unpublished` ones were, then taken back (the
# cases file calls both `draft`).
LESSONS = (
    st(course="draft", lesson="draft"),
    st(course="draft", lesson="published"),
    st(course="published", lesson="draft"),
    st(course="published", lesson="published"),
    st(course="published", lesson="unpublished"),
    st(course="archived", lesson="published"),
)
NOTES = tuple(s for s in LESSONS if dict(s)["lesson"] != "draft")
# A published lesson whose note failed: only headings, nothing to summarise.
FAILED = st(course="published", lesson="failed")
NEVER_PUBLISHED = tuple(s for s in LESSONS if dict(s)["lesson"] == "draft")
EXAMS = (
    st(course="published", exam="draft"),
    st(course="draft", exam="published"),
    st(course="published", exam="published"),
    st(course="archived", exam="published"),
)
RESULTS = (EXAMS[0], EXAMS[1], EXAMS[2])
ATTEMPTS = tuple(st(course="published", exam="published", attempt=a) for a in ("open", "closed"))
REVIEWS = (
    st(course="published", exam="published", attempt="closed", review="after_submit"),
    st(course="published", exam="published", attempt="closed", review="after_close",
       window="open"),
    st(course="published", exam="published", attempt="closed", review="after_close",
       window="closed"),
    st(course="published", exam="published", attempt="closed", review="never"),
)  # fmt: skip


def by_role(**outcomes: str) -> dict[str, str]:
    """Outcomes written here (identity, and notes that do not exist): `rest` for the
    callers not named."""
    rest = outcomes.pop("rest", None)
    table = {caller: rest for caller in CALLERS if rest is not None}
    return {**table, **outcomes}


ANYONE = by_role(rest="allowed")
SIGNED_IN = by_role(rest="allowed", anonymous="unauthorized")
ADMIN_ONLY = by_role(rest="forbidden", anonymous="unauthorized", admin="allowed")
AUTHORS = by_role(rest="forbidden", anonymous="unauthorized", owner="allowed",
                  other_instructor="allowed", admin="allowed")  # fmt: skip
# A lesson never published has no note, chunks or concepts for anyone.
NO_NOTE = by_role(rest="not_found", anonymous="unauthorized")
# GET /attempts lists the caller's own attempts: the student's, for no one else.
OWN = by_role(rest="not_found", anonymous="unauthorized", student="visible")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as in the service's OpenAPI document
    thing: str  # a thing of access_cases.yaml, or a label when `outcomes` is given
    states: tuple[State, ...] = (NONE,)
    allowed: int = 200  # the status of `allowed`
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None  # JSON, with "{placeholders}" filled from the target
    raw: str | None = None  # a text/markdown body (a placeholder name)
    listed: str | None = None  # a list: the item key that must (not) hold the target's id
    target_key: str = ""  # which target id `listed` looks for
    pages: bool = False  # walk every page back to the world's first thing
    field: str | None = None  # a field that must be `present` or `absent`
    mutates: bool = False  # runs once, after the reads
    scratch: bool = False  # callers allowed to act get a fresh thing of that state
    last: bool = False  # ends the caller's sessions: after everything else
    outcomes: dict[str, str] | None = None  # instead of the cases file
    skip: str | None = None


LESSON_BODY = {"title": "Added by the matrix", "content_markdown": "# Added\n\nNothing secret."}
QUESTION = {"prompt": "1 + 1?", "kind": "single_choice", "correct_option_ids": ["b"],
            "options": [{"id": "a", "text": "1"}, {"id": "b", "text": "2"}]}  # fmt: skip
NEW_EXAM = {"course_id": "{course_id}", "title": "Matrix", "duration_seconds": 600,
            "passing_score_percent": 50}  # fmt: skip
ANSWERS = {"answers": [{"question_id": "{question_id}", "option_ids": ["b"]}]}
PUBLISHED_LESSONS = (st(course="draft", lesson="published"),
                     st(course="published", lesson="published"))  # fmt: skip
MANAGED_LESSONS = (*NEVER_PUBLISHED, *PUBLISHED_LESSONS)

# fmt: off
ENDPOINTS: tuple[Endpoint, ...] = (
    # --- identity: who may, by role ---------------------------------------------------
    Endpoint("POST", "/api/v1/auth/register", "anyone", outcomes=ANYONE, allowed=201,
             body={"email": "{new_email}", "password": PASSWORD, "full_name": "Matrix"}),
    Endpoint("POST", "/api/v1/auth/login", "anyone", outcomes=ANYONE,
             body={"email": "{spare_email}", "password": PASSWORD}),
    Endpoint("GET", "/api/v1/auth/jwks", "anyone", outcomes=ANYONE),
    Endpoint("POST", "/api/v1/auth/refresh", "anyone", outcomes=ANYONE, mutates=True,
             body={"refresh_token": "{refresh_token}"}),
    Endpoint("POST", "/api/v1/auth/logout", "anyone", outcomes=ANYONE, allowed=204,
             mutates=True, body={"refresh_token": "{logout_token}"}),
    Endpoint("POST", "/api/v1/auth/password-reset", "anyone", outcomes=ANYONE, allowed=202,
             mutates=True, body={"email": "{new_email}"}),  # no such account: the same 202
    Endpoint("POST", "/api/v1/auth/password-reset/confirm", "anyone",
             outcomes=by_role(rest="bad_request"), mutates=True,
             body={"token": "not-a-reset-token", "new_password": "another long password"}),
    Endpoint("GET", "/api/v1/users/me", "signed_in", outcomes=SIGNED_IN),
    Endpoint("GET", "/api/v1/users", "admin_only", outcomes=ADMIN_ONLY),
    Endpoint("GET", "/api/v1/users/{user_id}", "admin_only", outcomes=ADMIN_ONLY),
    # A role the spare user has already: nothing changes.
    Endpoint("PATCH", "/api/v1/users/{user_id}", "admin_only", outcomes=ADMIN_ONLY,
             mutates=True, body={"role": "STUDENT"}),
    Endpoint("DELETE", "/api/v1/users/{user_id}", "admin_only", outcomes=ADMIN_ONLY,
             allowed=204, mutates=True, scratch=True),
    # Self-service that ends sessions or the account: only the refusal of anonymous
    # callers here (the signed-in success is the identity suite's), but logout-all for
    # everyone, once nothing else needs their tokens.
    Endpoint("POST", "/api/v1/auth/password", "signed_in",
             outcomes=by_role(anonymous="unauthorized"),
             body={"current_password": PASSWORD, "new_password": "another long password"}),
    Endpoint("DELETE", "/api/v1/users/me", "signed_in",
             outcomes=by_role(anonymous="unauthorized"), body={"password": PASSWORD}),
    Endpoint("POST", "/api/v1/auth/logout-all", "signed_in", outcomes=SIGNED_IN, allowed=204,
             mutates=True, last=True),

    # --- content ----------------------------------------------------------------------
    Endpoint("GET", "/api/v1/courses/{course_id}", "course", COURSES),
    Endpoint("GET", "/api/v1/courses", "course", COURSES, listed="id", target_key="course_id",
             params={"limit": 100}, pages=True),
    Endpoint("GET", "/api/v1/courses", "course", COURSES, listed="id", target_key="course_id",
             params={"owner": "{owner_id}", "limit": 100}),
    Endpoint("GET", "/api/v1/courses/{course_id}/lessons", "lesson", LESSONS, listed="id",
             target_key="lesson_id", params={"limit": 100}),
    Endpoint("GET", "/api/v1/lessons/{lesson_id}", "lesson", LESSONS),
    Endpoint("GET", "/api/v1/lessons/{lesson_id}/content", "lesson", LESSONS),
    Endpoint("POST", "/api/v1/courses", "create_course", outcomes=AUTHORS, allowed=201,
             mutates=True, body={"title": "Matrix", "description": "made by a row"}),
    Endpoint("PATCH", "/api/v1/courses/{course_id}", "manage_course", COURSES[:2],
             mutates=True, body={"description": "edited by the matrix"}),
    Endpoint("POST", "/api/v1/courses/{course_id}/publish", "manage_course", COURSES[:1],
             mutates=True, scratch=True),
    # Publishing a published course changes nothing.
    Endpoint("POST", "/api/v1/courses/{course_id}/publish", "manage_course", COURSES[1:2],
             mutates=True),
    Endpoint("POST", "/api/v1/courses/{course_id}/unpublish", "manage_course", COURSES[1:2],
             mutates=True, scratch=True),
    Endpoint("POST", "/api/v1/courses/{course_id}/archive", "manage_course", COURSES[:2],
             mutates=True, scratch=True),
    Endpoint("POST", "/api/v1/courses/{course_id}/lessons", "manage_course", COURSES[:2],
             allowed=201, mutates=True, body=LESSON_BODY),
    # The body it has already: nothing changes.
    Endpoint("PUT", "/api/v1/lessons/{lesson_id}/content", "manage_lesson", MANAGED_LESSONS,
             mutates=True, raw="markdown"),
    Endpoint("POST", "/api/v1/lessons/{lesson_id}/publish", "manage_lesson", NEVER_PUBLISHED,
             mutates=True, scratch=True),
    Endpoint("POST", "/api/v1/lessons/{lesson_id}/publish", "manage_lesson", PUBLISHED_LESSONS,
             mutates=True),
    Endpoint("POST", "/api/v1/lessons/{lesson_id}/unpublish", "manage_lesson",
             PUBLISHED_LESSONS, mutates=True, scratch=True),
    Endpoint("DELETE", "/api/v1/lessons/{lesson_id}", "manage_lesson", MANAGED_LESSONS[1::2],
             allowed=204, mutates=True, scratch=True),

    # --- assessment -------------------------------------------------------------------
    Endpoint("GET", "/api/v1/exams/{exam_id}", "exam", EXAMS),
    Endpoint("GET", "/api/v1/exams", "exam", EXAMS, listed="id", target_key="exam_id",
             params={"course_id": "{course_id}", "limit": 100}),
    Endpoint("GET", "/api/v1/exams", "exam", EXAMS, listed="id", target_key="exam_id",
             params={"limit": 100}, pages=True),
    Endpoint("GET", "/api/v1/exams/{exam_id}", "correct_answers", EXAMS[2:3],
             field="correct_option_ids"),
    Endpoint("GET", "/api/v1/exams/{exam_id}/attempts", "exam_results", RESULTS),
    Endpoint("GET", "/api/v1/exams/{exam_id}/analytics", "exam_results", RESULTS),
    Endpoint("GET", "/api/v1/exams/{exam_id}/grades", "exam_results", RESULTS),
    # A student's own grade follows the rule of starting an attempt.
    Endpoint("GET", "/api/v1/exams/{exam_id}/grades/me", "start_attempt", RESULTS),
    Endpoint("GET", "/api/v1/attempts/{attempt_id}", "attempt", ATTEMPTS),
    Endpoint("GET", "/api/v1/attempts", "own_attempts", ATTEMPTS, outcomes=OWN, listed="id",
             target_key="attempt_id", params={"limit": 100}),
    Endpoint("GET", "/api/v1/attempts/{attempt_id}", "attempt_correct_answers", REVIEWS,
             field="correct_option_ids"),
    Endpoint("POST", "/api/v1/exams", "create_exam", COURSES[:2], allowed=201,
             mutates=True, body=NEW_EXAM),
    Endpoint("POST", "/api/v1/exams/{exam_id}/questions", "manage_exam", EXAMS[:1],
             allowed=201, mutates=True, body=QUESTION),
    Endpoint("POST", "/api/v1/exams/{exam_id}/publish", "manage_exam", EXAMS[:1],
             mutates=True, scratch=True),
    Endpoint("POST", "/api/v1/exams/{exam_id}/publish", "manage_exam", EXAMS[1:3],
             mutates=True),
    # The student's own open attempt comes back; another student starts one.
    Endpoint("POST", "/api/v1/exams/{exam_id}/attempts", "start_attempt", RESULTS,
             allowed=201, mutates=True),
    Endpoint("POST", "/api/v1/attempts/{attempt_id}/submit", "submit_attempt", ATTEMPTS[:1],
             mutates=True, scratch=True, body=ANSWERS),
    Endpoint("POST", "/api/v1/attempts/{attempt_id}/answers", "submit_attempt", ATTEMPTS[:1],
             mutates=True, scratch=True,
             body={"question_id": "{question_id}", "option_ids": ["b"]}),

    # --- ai-notes ---------------------------------------------------------------------
    Endpoint("GET", "/api/v1/notes/{lesson_id}", "note", NOTES),
    Endpoint("GET", "/api/v1/notes/{lesson_id}", "no_note", NEVER_PUBLISHED, outcomes=NO_NOTE),
    Endpoint("GET", "/api/v1/notes", "note", NOTES, listed="lesson_id", target_key="lesson_id",
             params={"concept": "{concept}", "limit": 100}),
    Endpoint("GET", "/api/v1/notes/search", "note", NOTES, listed="lesson_id",
             target_key="lesson_id", params={"q": "{word}"}),
    Endpoint("GET", "/api/v1/notes/search", "note", NOTES, listed="lesson_id",
             target_key="lesson_id", params={"q": "{word}", "course_id": "{course_id}"}),
    Endpoint("GET", "/api/v1/notes/search", "no_note", NEVER_PUBLISHED, outcomes=NO_NOTE,
             listed="lesson_id", target_key="lesson_id", params={"q": "{word}"}),
    Endpoint("GET", "/api/v1/notes/{lesson_id}", "note_failure_reason", (FAILED,),
             field="failure_reason"),
    Endpoint("POST", "/api/v1/notes/{lesson_id}/regenerate", "regenerate_note",
             PUBLISHED_LESSONS, allowed=202, mutates=True),
)
# fmt: on


@dataclass(frozen=True)
class Row:
    endpoint: Endpoint
    state: State
    caller: str
    outcome: str

    @property
    def id(self) -> str:
        ep = self.endpoint
        query = "?" + "&".join(k for k in ep.params if k != "limit") if ep.params else ""
        query = "" if query == "?" else query
        state = ",".join(f"{k}={v}" for k, v in self.state)
        return f"{ep.method} {ep.path}{query} {ep.thing}[{state}] {self.caller}"


def cases_state(state: State) -> frozenset[tuple[str, str]]:
    named = {"unpublished": "draft", "failed": "published"}
    return frozenset((k, named.get(v, v)) for k, v in state)


def expand() -> list[Row]:
    rows: list[Row] = []
    for ep in ENDPOINTS:
        for state in ep.states:
            outcomes = ep.outcomes or OUTCOMES[(ep.thing, cases_state(state))]
            rows.extend(Row(ep, state, c, outcomes[c]) for c in CALLERS if c in outcomes)
    return rows


ROWS = expand()
assert len({row.id for row in ROWS}) == len(ROWS), "two rows with one id"


# --- the world ---------------------------------------------------------------------------


def made_up_word() -> str:
    """A word no lesson has but one: consonant, vowel, five times."""
    pairs = (secrets.choice("bdfgklmnprstvz") + secrets.choice("aeiou") for _ in range(5))
    return "".join(pairs).capitalize()


def lesson_body(word: str) -> str:
    low = word.lower()
    return (
        f"# {word}\n\n{word} is the topic of this lesson. A {low} has a core, and the {low} "
        f"core keeps the {low} steady. Students learn what a {low} does.\n\n"
        f"## The {low} method\n\nThe {low} method solves a {low} problem step by step; "
        f"every {low} exercise uses it.\n"
    )


@dataclass
class Lesson:
    id: str
    course_id: str
    word: str
    body: str
    concept: str


@dataclass
class OwnedWorld:
    """One instructor's things, in every state the matrix reads."""

    owner: Account
    courses: dict[str, str] = field(default_factory=dict)  # course state -> id
    lessons: dict[State, Lesson] = field(default_factory=dict)  # (course, lesson) state
    exams: dict[State, str] = field(default_factory=dict)  # (course, exam) state
    questions: dict[str, str] = field(default_factory=dict)  # exam id -> a question id
    attempts: dict[State, str] = field(default_factory=dict)  # attempt state (+ review)
    created: list[str] = field(default_factory=list)  # created_at of courses and exams
    closes: datetime | None = None  # when the `after_close` exam's window closes


@dataclass
class World:
    callers: dict[str, Account | None]
    tokens: dict[str, dict[str, str]]  # caller -> Authorization header ({} anonymous)
    mine: OwnedWorld  # the owner's
    demoted: OwnedWorld  # the demoted owner's (built while an INSTRUCTOR)
    spare: Account  # a STUDENT that identity rows read, log in as, and leave unchanged
    refresh: dict[str, str]  # caller -> a refresh token of the spare user, for `refresh`
    logout: dict[str, str]  # caller -> another one, for `logout`
    routes: set[tuple[str, str]]  # (method, path) of every service's OpenAPI document
    missing: dict[str, str]  # a state value -> why the world could not build it
    since: datetime  # when the world's first thing was made: lists walk back to it

    def owned(self, caller: str) -> OwnedWorld:
        return self.demoted if caller == "demoted_owner" else self.mine


OPENAPI = {"identity": "/api/v1/auth", "content": "/api/v1/courses",
           "assessment": "/api/v1/exams", "ai-notes": "/api/v1/notes"}  # fmt: skip
SERVICE_OF = {"auth": "identity", "users": "identity", "courses": "content",
              "lessons": "content", "exams": "assessment", "attempts": "assessment",
              "notes": "ai-notes"}  # fmt: skip


def service(path: str) -> str:
    return SERVICE_OF[path.split("/")[3]]


async def routes_served(gw: httpx.AsyncClient) -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for prefix in OPENAPI.values():
        doc = await gw.get(f"{prefix}/openapi.json")
        assert doc.status_code == 200, doc.text
        for path, methods in doc.json()["paths"].items():
            routes.update((method.upper(), path) for method in methods)
    return routes


async def ok(response: Any, status: int = 200) -> Any:
    answer = await response
    assert answer.status_code == status, f"{answer.request.url}: {answer.text}"
    return answer.json() if answer.content else None


async def build(
    gw: httpx.AsyncClient,
    owner: Account,
    student: Account,
    routes: set[tuple[str, str]],
    missing: dict[str, str],
) -> OwnedWorld:
    world = OwnedWorld(owner=owner)
    auth = owner.auth
    for course_state in ("draft", "published", "archived"):
        course = await ok(gw.post("/api/v1/courses", json={"title": f"Matrix {course_state}"},
                                  headers=auth), 201)  # fmt: skip
        world.courses[course_state] = course["id"]
        world.created.append(course["created_at"])
    for state in LESSONS:
        course_state, lesson_state = dict(state)["course"], dict(state)["lesson"]
        word = made_up_word()
        body = lesson_body(word)
        lesson = await ok(
            gw.post(f"/api/v1/courses/{world.courses[course_state]}/lessons",
                    json={"title": f"Lesson {word}", "content_markdown": body}, headers=auth),
            201,
        )  # fmt: skip
        if lesson_state != "draft":
            await ok(gw.post(f"/api/v1/lessons/{lesson['id']}/publish", headers=auth))
        world.lessons[state] = Lesson(lesson["id"], lesson["course_id"], word, body, word)
    word = made_up_word()
    lesson = await ok(
        gw.post(f"/api/v1/courses/{world.courses['published']}/lessons",
                json={"title": word, "content_markdown": f"# {word}\n"}, headers=auth),
        201,
    )  # fmt: skip
    await ok(gw.post(f"/api/v1/lessons/{lesson['id']}/publish", headers=auth))
    world.lessons[FAILED] = Lesson(lesson["id"], lesson["course_id"], word, f"# {word}\n", word)
    for course_state in ("published", "archived"):
        await ok(gw.post(f"/api/v1/courses/{world.courses[course_state]}/publish", headers=auth))

    for state in EXAMS:
        course_id = world.courses[dict(state)["course"]]
        if dict(state)["exam"] == "published":
            exam_id = await create_exam(gw, auth, course_id)
        else:
            exam_id = await draft_exam(gw, auth, course_id)
        world.exams[state] = exam_id
    for exam_id in world.exams.values():
        exam = await ok(gw.get(f"/api/v1/exams/{exam_id}", headers=auth))
        world.questions[exam_id] = exam["questions"][0]["id"]
        world.created.append(exam["created_at"])

    # The student's closed attempt, then an open one, at the published exam.
    exam_id = world.exams[EXAMS[2]]
    closed = await take(gw, student, exam_id, world.questions[exam_id])
    world.attempts[ATTEMPTS[1]] = world.attempts[REVIEWS[0]] = closed
    opened = await ok(gw.post(f"/api/v1/exams/{exam_id}/attempts", headers=student.auth), 201)
    world.attempts[ATTEMPTS[0]] = opened["id"]
    await reviewed_attempts(gw, world, student, routes, missing)

    ready = await asyncio.gather(
        *(note_ready(gw, auth, world.lessons[s].id, timeout=NOTES_WAIT) for s in NOTES),
        return_exceptions=True,
    )
    for state, note in zip(NOTES, ready, strict=True):
        assert not isinstance(note, BaseException), f"no note for {state}: {note}"
        lesson = world.lessons[state]
        names = [c["name"] for c in note["key_concepts"]]
        named = [n for n in names if lesson.word.lower() in n.lower()]
        # The made-up word when it is a concept; else the note's first concept.
        lesson.concept = min(named, key=len) if named else names[0]
    failed = await until(
        lambda: gw.get(f"/api/v1/notes/{world.lessons[FAILED].id}", headers=auth),
        lambda r: r.status_code == 200 and r.json()["status"] != "pending",
        timeout=NOTES_WAIT,
    )
    if failed.status_code != 200 or failed.json()["status"] != "failed":
        missing["failed"] = f"a lesson of headings only did not fail: {failed.text}"

    if ("POST", "/api/v1/lessons/{lesson_id}/unpublish") in routes:
        lesson_id = world.lessons[st(course="published", lesson="unpublished")].id
        await ok(gw.post(f"/api/v1/lessons/{lesson_id}/unpublish", headers=auth))
    else:
        missing["unpublished"] = "content serves no POST /api/v1/lessons/{id}/unpublish yet"
    if ("POST", "/api/v1/courses/{course_id}/archive") in routes:
        await ok(gw.post(f"/api/v1/courses/{world.courses['archived']}/archive", headers=auth))
    else:
        missing["archived"] = "content serves no POST /api/v1/courses/{id}/archive yet"
    if world.closes:
        # A time, not an event: the window closes when the clock says so.
        await asyncio.sleep(max(0.0, (world.closes - datetime.now(UTC)).total_seconds() + 1))
    return world


async def draft_exam(gw: httpx.AsyncClient, auth: dict[str, str], course_id: str) -> str:
    body = {**NEW_EXAM, "course_id": course_id}
    exam = await until(lambda: gw.post("/api/v1/exams", json=body, headers=auth),
                       lambda r: r.status_code != 409)  # fmt: skip
    assert exam.status_code == 201, exam.text
    await ok(gw.post(f"/api/v1/exams/{exam.json()['id']}/questions", json=QUESTION,
                     headers=auth), 201)  # fmt: skip
    exam_id: str = exam.json()["id"]
    return exam_id


async def take(gw: httpx.AsyncClient, student: Account, exam_id: str, question_id: str) -> str:
    started = await ok(gw.post(f"/api/v1/exams/{exam_id}/attempts", headers=student.auth), 201)
    await ok(gw.post(f"/api/v1/attempts/{started['id']}/submit",
                     json={"answers": [{"question_id": question_id, "option_ids": ["b"]}]},
                     headers=student.auth))  # fmt: skip
    attempt_id: str = started["id"]
    return attempt_id


async def reviewed_attempts(
    gw: httpx.AsyncClient,
    world: OwnedWorld,
    student: Account,
    routes: set[tuple[str, str]],
    missing: dict[str, str],
) -> None:
    """Closed attempts at exams whose `review` setting hides or delays the answers; the
    window of the `after_close` one closes a few seconds after the attempt."""
    if ("GET", "/api/v1/exams/{exam_id}/grades") not in routes:
        # The exam settings (CONTRACT.md "Exam settings") come with the grades.
        for value in ("after_close", "never"):
            missing[value] = "assessment has no exam settings (`review`) yet"
        return
    world.closes = datetime.now(UTC) + timedelta(seconds=30)
    configs = {
        REVIEWS[1]: {"review": "after_close"},
        REVIEWS[2]: {"review": "after_close", "closes_at": world.closes.isoformat()},
        REVIEWS[3]: {"review": "never"},
    }
    owner = world.owner.auth
    for state, config in configs.items():
        body = {**NEW_EXAM, "course_id": world.courses["published"], "config": config}
        exam = await gw.post("/api/v1/exams", json=body, headers=owner)
        if exam.status_code != 201:
            missing[dict(state)["review"]] = (
                f"assessment refused an exam with {config}: {exam.text}"
            )
            continue
        exam_id = exam.json()["id"]
        question = await ok(gw.post(f"/api/v1/exams/{exam_id}/questions", json=QUESTION,
                                    headers=owner), 201)  # fmt: skip
        await ok(gw.post(f"/api/v1/exams/{exam_id}/publish", headers=owner))
        world.attempts[state] = await take(gw, student, exam_id, question["id"])


@pytest.fixture(scope="module")
async def world(platform: Any) -> World:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as gw:
        routes = await routes_served(gw)
        accounts = await asyncio.gather(
            register(gw, prefix="m-student"), register(gw, prefix="m-other"),
            register(gw, role="INSTRUCTOR", prefix="m-owner"),
            register(gw, role="INSTRUCTOR", prefix="m-instructor"),
            register(gw, role="ADMIN", prefix="m-admin"),
            register(gw, role="INSTRUCTOR", prefix="m-demoted"),
            register(gw, prefix="m-spare"),
        )  # fmt: skip
        student, other, owner, instructor, admin, demoted, spare = accounts
        missing: dict[str, str] = {}
        mine, theirs = await asyncio.gather(
            build(gw, owner, student, routes, missing),
            build(gw, demoted, student, routes, missing),
        )
        # Demoted a moment ago: the INSTRUCTOR token in `demoted.auth` stays in use.
        await set_role(gw, demoted.id, "STUDENT")
        tokens = []
        for _ in range(2 * len(CALLERS)):
            signed_in = await gw.post(
                "/api/v1/auth/login", json={"email": spare.email, "password": PASSWORD}
            )
            assert signed_in.status_code == 200, signed_in.text
            tokens.append(signed_in.json()["refresh_token"])
        callers: dict[str, Account | None] = {
            "anonymous": None, "student": student, "other_student": other, "owner": owner,
            "other_instructor": instructor, "admin": admin, "demoted_owner": demoted,
        }  # fmt: skip
        return World(
            callers=callers,
            tokens={c: a.auth if a else {} for c, a in callers.items()},
            mine=mine,
            demoted=theirs,
            spare=spare,
            refresh=dict(zip(CALLERS, tokens[: len(CALLERS)], strict=True)),
            logout=dict(zip(CALLERS, tokens[len(CALLERS) :], strict=True)),
            routes=routes,
            missing=missing,
            since=min(map(datetime.fromisoformat, mine.created + theirs.created)),
        )


# --- running the rows --------------------------------------------------------------------


def target(world: World, row: Row) -> dict[str, str]:
    """The placeholders of a row: the ids of the thing in the row's state (in the demoted
    owner's world for that caller), and what identity rows need."""
    owned = world.owned(row.caller)
    state = dict(row.state)
    values = {
        "owner_id": owned.owner.id,
        "user_id": world.spare.id,
        "spare_email": world.spare.email,
        "new_email": f"m-new.{secrets.token_hex(4)}@example.com",
        "refresh_token": world.refresh[row.caller],
        "logout_token": world.logout[row.caller],
    }
    if "course" in state:
        values["course_id"] = owned.courses[state["course"]]
    if "lesson" in state:
        lesson = owned.lessons[row.state]
        values |= {"lesson_id": lesson.id, "word": lesson.word, "concept": lesson.concept,
                   "markdown": lesson.body}  # fmt: skip
    if "exam" in state and "attempt" not in state:
        values["exam_id"] = owned.exams[(("course", state["course"]), ("exam", state["exam"]))]
        values["question_id"] = owned.questions[values["exam_id"]]
    if "attempt" in state:
        values["attempt_id"] = owned.attempts[row.state]
        values["exam_id"] = owned.exams[EXAMS[2]]
        values["question_id"] = owned.questions[values["exam_id"]]
    return values


def fill(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str):
        return template.format(**values)
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    return template


def why_skipped(world: World, row: Row) -> str | None:
    ep = row.endpoint
    if ep.skip:
        return ep.skip
    if (ep.method, ep.path) not in world.routes:
        return f"{service(ep.path)} does not serve {ep.method} {ep.path} (not in its OpenAPI)"
    for _, value in row.state:
        if value in world.missing:
            return f"no thing in state {value}: {world.missing[value]}"
    return None


@dataclass
class Result:
    passed: bool
    detail: str
    skipped: str | None = None


Answer = tuple[httpx.Response, set[str]]


async def ask(
    gw: httpx.AsyncClient,
    world: World,
    row: Row,
    values: dict[str, str],
    same: dict[tuple[Any, ...], asyncio.Task[Answer]] | None = None,
) -> Answer:
    """The row's request, with the ids a list answered (every page when asked); rows
    that read the same thing as the same caller share one answer in `same`."""
    ep = row.endpoint
    if same is not None:
        params = fill(ep.params, values)
        key = (row.caller, ep.method, fill(ep.path, values), tuple(sorted(params.items())))
        if key not in same:
            same[key] = asyncio.create_task(ask(gw, world, row, values))
        return await same[key]
    headers = dict(world.tokens[row.caller])
    content = None
    if ep.raw:
        content = values[ep.raw].encode()
        headers["Content-Type"] = "text/markdown"
    params = fill(ep.params, values)
    response = await gw.request(ep.method, fill(ep.path, values), params=params,
                                json=fill(ep.body, values), content=content,
                                headers=headers)  # fmt: skip
    ids: set[str] = set()
    page = response
    for _ in range(30):
        if not (ep.listed and page.status_code == 200):
            break
        items = page.json()["items"]
        ids.update(str(item[ep.listed]) for item in items)
        cursor = page.json().get("next_cursor")
        # Newest first: a page that reached back before the world holds the last of it.
        if not (ep.pages and cursor and items):
            break
        if datetime.fromisoformat(items[-1]["created_at"]) < world.since:
            break
        page = await gw.request(ep.method, fill(ep.path, values),
                                params={**params, "cursor": cursor}, headers=headers)  # fmt: skip
    return response, ids


def shown(body: Any, name: str) -> bool:
    """Whether `name` holds a value anywhere in the answer (null counts as absent)."""
    if isinstance(body, dict):
        return any((k == name and v is not None) or shown(v, name) for k, v in body.items())
    if isinstance(body, list):
        return any(shown(v, name) for v in body)
    return False


def judge(row: Row, response: httpx.Response, ids: set[str], wanted: str) -> Result:
    ep = row.endpoint
    got = f"got {response.status_code} {response.text[:300]!r}"
    if row.outcome == "allowed":
        return Result(response.status_code == ep.allowed, f"expected {ep.allowed}, {got}")
    if ep.listed and row.outcome in ("visible", "not_found"):
        if row.outcome == "visible":
            found = response.status_code == 200 and wanted in ids
            return Result(found, f"expected {wanted} in the list, {got}")
        hidden = response.status_code == 404 or (response.status_code == 200 and wanted not in ids)
        return Result(hidden, f"expected {wanted} left out (200 without it, or 404), {got}")
    if ep.field and row.outcome in ("present", "absent"):
        if response.status_code != 200:
            return Result(False, f"expected 200 with {ep.field} {row.outcome}, {got}")
        present = shown(response.json(), ep.field)
        return Result(present == (row.outcome == "present"), f"expected {ep.field} "
                      f"{row.outcome}, {got}")  # fmt: skip
    expected = STATUS[row.outcome]
    return Result(response.status_code == expected, f"expected {expected}, {got}")


async def run(
    gw: httpx.AsyncClient,
    world: World,
    row: Row,
    values: dict[str, str],
    same: dict[tuple[Any, ...], asyncio.Task[Answer]] | None = None,
) -> Result:
    try:
        response, ids = await ask(gw, world, row, values, same)
    except httpx.HTTPError as error:
        return Result(False, f"request failed: {error!r}")
    return judge(row, response, ids, values.get(row.endpoint.target_key, ""))


async def run_reads(gw: httpx.AsyncClient, world: World, rows: list[Row]) -> dict[str, Result]:
    """Every read at once (a few at a time); those that fail again until SETTLE passed."""
    gate = asyncio.Semaphore(CONCURRENCY)
    values = {row.id: target(world, row) for row in rows}

    async def one(
        row: Row, same: dict[tuple[Any, ...], asyncio.Task[Answer]]
    ) -> tuple[str, Result]:
        async with gate:
            return row.id, await run(gw, world, row, values[row.id], same)

    results: dict[str, Result] = {}
    deadline = time.monotonic() + SETTLE
    pending = rows
    while pending:
        same: dict[tuple[Any, ...], asyncio.Task[Answer]] = {}
        results |= dict(await asyncio.gather(*(one(row, same) for row in pending)))
        pending = [row for row in pending if not results[row.id].passed]
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    return results


async def scratch(gw: httpx.AsyncClient, world: World, row: Row) -> dict[str, str]:
    """A fresh thing in the row's state, of the owner's, for a caller allowed to change it."""
    mine, auth = world.mine, world.mine.owner.auth
    state = dict(row.state)
    student = world.callers["student"]
    assert student is not None
    if row.endpoint.path == "/api/v1/users/{user_id}":
        return {"user_id": (await register(gw, prefix="m-erased")).id}
    if row.endpoint.thing == "manage_course":
        course = await ok(gw.post("/api/v1/courses", json={"title": "Scratch"}, headers=auth),
                          201)  # fmt: skip
        if state["course"] == "published":
            await ok(gw.post(f"/api/v1/courses/{course['id']}/publish", headers=auth))
        return {"course_id": course["id"]}
    if row.endpoint.thing == "manage_lesson":
        lesson = await ok(gw.post(f"/api/v1/courses/{mine.courses[state['course']]}/lessons",
                                  json=LESSON_BODY, headers=auth), 201)  # fmt: skip
        if state["lesson"] == "published":
            await ok(gw.post(f"/api/v1/lessons/{lesson['id']}/publish", headers=auth))
        return {"lesson_id": lesson["id"]}
    if row.endpoint.thing == "manage_exam":
        return {"exam_id": await draft_exam(gw, auth, mine.courses["published"])}
    if row.endpoint.thing == "submit_attempt":
        # Answers one at a time are for adaptive exams only.
        adaptive = {"config": {"mode": "adaptive"}} if row.endpoint.path.endswith("answers") else {}
        exam_id = await create_exam(gw, auth, mine.courses["published"], **adaptive)
        started = await ok(gw.post(f"/api/v1/exams/{exam_id}/attempts", headers=student.auth),
                           201)  # fmt: skip
        return {"attempt_id": started["id"], "question_id": started["questions"][0]["question_id"]}
    raise AssertionError(f"no scratch thing for {row.id}")


async def run_changes(gw: httpx.AsyncClient, world: World, rows: list[Row]) -> dict[str, Result]:
    """One at a time, in table order: a change by one caller never races another's."""
    results = {}
    for row in rows:
        values = target(world, row)
        if row.endpoint.scratch and row.outcome == "allowed":
            try:
                values |= await scratch(gw, world, row)
            except (AssertionError, httpx.HTTPError) as error:
                results[row.id] = Result(False, f"no fresh thing to act on: {error}")
                continue
        results[row.id] = await run(gw, world, row, values)
    return results


@pytest.fixture(scope="module")
async def matrix(platform: Any, world: World) -> dict[str, Result]:
    results: dict[str, Result] = {}
    live = []
    for row in ROWS:
        reason = why_skipped(world, row)
        if reason:
            results[row.id] = Result(True, "", skipped=reason)
        else:
            live.append(row)
    sent = 0

    async def count(_: httpx.Request) -> None:
        nonlocal sent
        sent += 1

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=platform.gateway, timeout=30, limits=limits, event_hooks={"request": [count]}
    ) as gw:
        started = time.monotonic()
        results |= await run_reads(gw, world, [r for r in live if not r.endpoint.mutates])
        results |= await run_changes(
            gw, world, [r for r in live if r.endpoint.mutates and not r.endpoint.last]
        )
        results |= await run_changes(gw, world, [r for r in live if r.endpoint.last])
    failed = [row for row in ROWS if not results[row.id].passed]
    skipped = [row for row in ROWS if results[row.id].skipped]
    print(f"\naccess matrix: {len(ROWS)} rows, {len(failed)} failed, {len(skipped)} skipped; "
          f"{sent} requests in {time.monotonic() - started:.0f} s")  # fmt: skip
    for row in failed:
        print(f"  FAIL {service(row.endpoint.path)}: {row.id}: {results[row.id].detail}")
    return results


@pytest.mark.parametrize("row_id", [row.id for row in ROWS], ids=[row.id for row in ROWS])
def test_the_caller_gets_what_the_contract_says(matrix: dict[str, Result], row_id: str) -> None:
    result = matrix[row_id]
    if result.skipped:
        pytest.skip(result.skipped)
    assert result.passed, result.detail


def test_every_case_of_the_table_is_reached_through_the_gateway() -> None:
    """Each (thing, state) of access_cases.yaml has an endpoint here, but those no
    endpoint can reach yet (named below)."""
    reached = {(ep.thing, cases_state(s)) for ep in ENDPOINTS for s in ep.states}
    unreached = {(thing, dict(state)) for thing, state in OUTCOMES if (thing, state) not in reached}
    assert not unreached, unreached
