"""When an export is served, awaited or asked for again; when it is complete; how the
document is put together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edvent_identity.domain.exports import (
    Chunk,
    ExportCollisionError,
    ExportState,
    Next,
    assemble,
    complete_services,
    next_step,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
HOUR, TEN_MINUTES = timedelta(hours=1), timedelta(minutes=10)


def step(requested_ago: timedelta, completed_ago: timedelta | None) -> Next:
    state = ExportState(
        requested_at=NOW - requested_ago,
        completed_at=None if completed_ago is None else NOW - completed_ago,
    )
    return next_step(state, now=NOW, available_for=HOUR, wait_for=TEN_MINUTES)


def test_nothing_yet_asks_the_services() -> None:
    assert next_step(None, now=NOW, available_for=HOUR, wait_for=TEN_MINUTES) is Next.REQUEST


def test_an_unfinished_export_is_awaited_then_asked_for_again() -> None:
    assert step(timedelta(seconds=5), None) is Next.WAIT
    assert step(TEN_MINUTES - timedelta(seconds=1), None) is Next.WAIT
    assert step(TEN_MINUTES, None) is Next.REQUEST


def test_a_finished_export_is_served_for_its_time_then_made_anew() -> None:
    assert step(timedelta(minutes=2), timedelta(minutes=1)) is Next.SERVE
    assert step(HOUR + timedelta(minutes=5), HOUR) is Next.REQUEST


def test_a_part_is_complete_when_every_chunk_is_in() -> None:
    expected = ["content", "assessment", "ai-notes"]
    chunks = [
        Chunk("content", 0, 1),
        Chunk("assessment", 0, 3),
        Chunk("assessment", 2, 3),
        Chunk("ai-notes", 0, 1),
        Chunk("somebody-else", 0, 1),
    ]
    assert complete_services(expected, chunks) == {"content", "ai-notes"}
    assert complete_services(expected, [*chunks, Chunk("assessment", 1, 3)]) == set(expected)


def test_the_document_holds_every_section_and_refuses_a_clash() -> None:
    document = assemble(
        {"account": {"email": "a@example.com"}},
        {"assessment": {"attempts": [], "grades": []}, "content": {"courses": []}},
    )
    assert set(document) == {"account", "attempts", "grades", "courses"}
    with pytest.raises(ExportCollisionError):
        assemble({"account": {}}, {"content": {"account": {}}})
