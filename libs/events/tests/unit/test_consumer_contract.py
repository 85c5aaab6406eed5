"""What service code sees of the consumer: typed handlers, tolerant decoding, settings."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api
from pydantic import ValidationError

from edvent_events.catalog import AttemptCompleted, LessonPublished, UserRoleChanged
from edvent_events.consumer import ConsumerRunner, Handlers
from edvent_events.envelope import Envelope, decode, encode
from edvent_events.samples import attempt_completed, user_role_changed

ROOT = Path(__file__).resolve().parents[4]

TYPED_HANDLERS = """
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events.catalog import CoursePublished, LessonPublished
from edvent_events.consumer import ConsumerRunner, Handlers
from edvent_events.envelope import Envelope

handlers = Handlers()


@handlers.on(LessonPublished)
async def on_lesson_published(
    session: AsyncSession, envelope: Envelope[LessonPublished]
) -> None:
    content_key: str = envelope.data.content_key  # no cast needed
    print(content_key)
"""


def run_mypy(tmp_path: Path, code: str) -> tuple[str, int]:
    module = tmp_path / "service_handlers.py"
    module.write_text(textwrap.dedent(code))
    out, err, status = mypy_api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--no-error-summary", str(module)]
    )
    return out + err, status


def test_handlers_receive_the_typed_event_under_mypy_strict(tmp_path: Path) -> None:
    output, status = run_mypy(tmp_path, TYPED_HANDLERS)
    assert status == 0, output


def test_mypy_rejects_a_handler_registered_for_another_event_type(tmp_path: Path) -> None:
    wrong = TYPED_HANDLERS + textwrap.dedent(
        """

        @handlers.on(LessonPublished)
        async def confused(session: AsyncSession, envelope: Envelope[CoursePublished]) -> None:
            pass
        """
    )
    output, status = run_mypy(tmp_path, wrong)
    assert status == 1
    assert "Envelope[CoursePublished]" in output and "Envelope[LessonPublished]" in output


def test_an_event_type_takes_one_handler() -> None:
    handlers = Handlers()

    async def first(session: object, envelope: Envelope[LessonPublished]) -> None: ...

    handlers.on(LessonPublished)(first)  # type: ignore[arg-type]
    assert handlers.get(LessonPublished) is first
    assert handlers.event_types == (LessonPublished,)
    with pytest.raises(ValueError, match="already has a handler"):
        handlers.on(LessonPublished)(first)  # type: ignore[arg-type]


# -- the tolerant reader ----------------------------------------------------------------


def test_a_new_role_does_not_fail_decoding_but_producers_cannot_invent_one() -> None:
    message = encode(user_role_changed())
    newer = message.value.replace(b'"new_role":"INSTRUCTOR"', b'"new_role":"AUDITOR"')
    assert newer != message.value
    envelope = decode(message.headers, newer)
    assert isinstance(envelope.data, UserRoleChanged)
    assert envelope.data.new_role == "AUDITOR"
    with pytest.raises(ValidationError, match="one of STUDENT, INSTRUCTOR, ADMIN"):
        user_role_changed(new_role="AUDITOR")


def test_a_new_attempt_status_does_not_fail_decoding() -> None:
    message = encode(attempt_completed())
    newer = message.value.replace(b'"status":"completed"', b'"status":"abandoned"')
    assert newer != message.value
    envelope = decode(message.headers, newer)
    assert isinstance(envelope.data, AttemptCompleted)
    assert envelope.data.status == "abandoned"


# -- settings ---------------------------------------------------------------------------


def test_the_poll_interval_outlasts_every_attempt_of_one_record() -> None:
    handlers = Handlers()
    handlers.on(LessonPublished)(_noop)
    runner = ConsumerRunner(
        service="svc",
        bootstrap_servers="127.0.0.1:1",
        sessions=None,  # type: ignore[arg-type]
        handlers=handlers,
        max_attempts=5,
        handler_timeout=60,
        max_backoff=10,
    )
    worst_ms = 5 * (60 + runner.probe_timeout) * 1000 + 10_000 * 5
    # aiokafka's default (300 s) is shorter than five attempts of 60 s: the member was
    # evicted mid-retry, its commit failed, and the message came back forever.
    assert runner.max_poll_interval_ms > worst_ms > 300_000


async def _noop(session: object, envelope: Envelope[LessonPublished]) -> None:
    pass
