"""Removing objects no lesson points at: replaced bodies, bodies of deleted lessons,
and orphans of failed writes."""

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


def _lesson_folder(key: str) -> str:
    """`courses/<course>/lessons/<lesson>/<sha256>.md` -> `courses/<course>/lessons/<lesson>/`."""
    return key.rsplit("/", 1)[0] + "/"


async def collect_garbage(
    *,
    session: AsyncSession,
    store: LessonStore,
    min_age: timedelta,
    orphan_min_age: timedelta | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> Collected:
    """Delete objects under the lessons prefix that no lesson references.

    An older body of a lesson that still exists goes once older than `min_age`:
    readers of an older LessonPublished may still fetch the version it names. An
    object of a lesson that no longer exists (deleted, or an upload whose row never
    came) goes once older than `orphan_min_age` (never later than `min_age`): short, since a
    deleted lesson's body must not outlive it for long, yet long enough for an upload
    whose row is about to be committed. Listing comes before reading the references,
    so an object stored and committed meanwhile is either too young or referenced."""
    objects = await store.list_objects(prefix=KEY_PREFIX)
    referenced = await lessons_db.referenced_keys(session)
    live_lessons = {_lesson_folder(key) for key in referenced}
    moment = now or datetime.now(UTC)
    cutoff = moment - min_age
    orphan_grace = min_age if orphan_min_age is None else min(min_age, orphan_min_age)
    orphan_cutoff = moment - orphan_grace
    garbage = sorted(
        item.key
        for item in objects
        if item.key not in referenced
        and item.last_modified
        <= (cutoff if _lesson_folder(item.key) in live_lessons else orphan_cutoff)
    )
    if garbage and not dry_run:
        await store.delete(keys=garbage)
    return Collected(examined=len(objects), garbage=garbage)
