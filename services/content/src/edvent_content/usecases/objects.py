"""Removing objects no lesson points at: orphans of failed writes and replaced bodies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_content.adapters.storage import LessonStore
from edvent_content.db import lessons as lessons_db
from edvent_content.domain.content import KEY_PREFIX


@dataclass(frozen=True, slots=True)
class Collected:
    examined: int
    garbage: list[str]


async def collect_garbage(
    *,
    session: AsyncSession,
    store: LessonStore,
    min_age: timedelta,
    dry_run: bool = False,
    now: datetime | None = None,
) -> Collected:
    """Delete objects under the lessons prefix that no lesson references and that are
    older than `min_age`: a younger one may belong to an upload whose row is about to
    be committed. Listing comes before reading the references, so an object stored
    and committed meanwhile is either too young or referenced."""
    objects = await store.list_objects(prefix=KEY_PREFIX)
    referenced = await lessons_db.referenced_keys(session)
    cutoff = (now or datetime.now(UTC)) - min_age
    garbage = sorted(
        item.key for item in objects if item.key not in referenced and item.last_modified <= cutoff
    )
    if garbage and not dry_run:
        await store.delete(keys=garbage)
    return Collected(examined=len(objects), garbage=garbage)
