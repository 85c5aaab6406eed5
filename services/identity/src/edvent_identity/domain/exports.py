"""When a data export is served, awaited or asked for again: plain rules, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum


class Next(Enum):
    SERVE = "serve"  # every part is in and the download has not expired
    WAIT = "wait"  # asked recently; parts are still coming
    REQUEST = "request"  # nothing usable: ask the services again


@dataclass(frozen=True, slots=True)
class ExportState:
    requested_at: datetime
    completed_at: datetime | None


def next_step(
    latest: ExportState | None, *, now: datetime, available_for: timedelta, wait_for: timedelta
) -> Next:
    """A finished export is served for `available_for` after it completed; an unfinished
    one is awaited for `wait_for` (a service that never answers must not block the user
    for good: after that, the request goes out again)."""
    if latest is None:
        return Next.REQUEST
    if latest.completed_at is not None:
        return Next.SERVE if now - latest.completed_at < available_for else Next.REQUEST
    return Next.WAIT if now - latest.requested_at < wait_for else Next.REQUEST


@dataclass(frozen=True, slots=True)
class Chunk:
    service: str
    chunk: int
    chunks: int


def complete_services(expected: Sequence[str], chunks: Iterable[Chunk]) -> set[str]:
    """The expected services whose every chunk has arrived."""
    seen: dict[str, set[int]] = {}
    wanted: dict[str, int] = {}
    for item in chunks:
        seen.setdefault(item.service, set()).add(item.chunk)
        wanted[item.service] = item.chunks
    return {
        service
        for service in expected
        if service in seen and seen[service] == set(range(wanted[service]))
    }


class ExportCollisionError(ValueError):
    """Two parts name the same section: the document would lose one of them."""


def assemble(base: dict[str, object], parts: dict[str, dict[str, object]]) -> dict[str, object]:
    """identity's own sections plus each service's, side by side. Every service names
    its sections (`courses`, `attempts`, `grades`, `ai_notes`); none may overwrite another."""
    document = dict(base)
    for service in sorted(parts):
        for name, value in parts[service].items():
            if name in document:
                raise ExportCollisionError(f"{service} names a section {name!r} twice")
            document[name] = value
    return document
