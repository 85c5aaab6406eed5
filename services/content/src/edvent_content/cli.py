"""`edvent-content`: migrate, downgrade, serve, gc-objects."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from pathlib import Path

from edvent_content.adapters.storage import LessonStore
from edvent_content.config import Settings
from edvent_content.usecases import objects as objects_usecase
from edvent_platform.cli import service_main
from edvent_platform.db import create_engine, session_factory

SERVICE_DIR = Path(__file__).resolve().parents[2]


async def gc_objects(
    settings: Settings, *, min_age: timedelta, orphan_min_age: timedelta, dry_run: bool
) -> objects_usecase.Collected:
    engine = create_engine(settings.database_url, schema=settings.db_schema, app_name="content-cli")
    store = LessonStore.from_settings(settings)
    try:
        # Read-only in the database: the session's transaction is simply not committed.
        async with session_factory(engine)() as session:
            return await objects_usecase.collect_garbage(
                session=session,
                store=store,
                min_age=min_age,
                orphan_min_age=orphan_min_age,
                dry_run=dry_run,
            )
    finally:
        store.close()
        await engine.dispose()


def _gc_objects(args: argparse.Namespace) -> None:
    collected = asyncio.run(
        gc_objects(
            Settings(),
            min_age=timedelta(hours=args.min_age_hours),
            orphan_min_age=timedelta(minutes=args.orphan_min_age_minutes),
            dry_run=args.dry_run,
        )
    )
    verb = "would delete" if args.dry_run else "deleted"
    for key in collected.garbage:
        print(f"{verb} {key}")
    print(f"{collected.examined} objects examined, {verb} {len(collected.garbage)}")


def _commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gc = sub.add_parser(
        "gc-objects",
        help="delete lesson bodies in S3 that no lesson points at (replaced versions, "
        "bodies of deleted lessons, uploads whose database write failed)",
    )
    gc.add_argument(
        "--min-age-hours",
        type=float,
        default=24.0,
        help="keep replaced bodies of existing lessons younger than this: readers of an "
        "older LessonPublished may still fetch the version it names (default: 24)",
    )
    gc.add_argument(
        "--orphan-min-age-minutes",
        type=float,
        default=15.0,
        help="keep objects of lessons that no longer exist (deleted lessons, uploads whose "
        "database write failed) younger than this: an upload may still be on its way to "
        "the database (default: 15)",
    )
    gc.add_argument("--dry-run", action="store_true", help="only list what would go")
    gc.set_defaults(func=_gc_objects)


def main(argv: list[str] | None = None) -> None:
    service_main(
        prog="edvent-content",
        env_prefix="CONTENT_",
        service_dir=SERVICE_DIR,
        app_factory="edvent_content.main:create_app",
        default_port=8002,
        extra=_commands,
        argv=argv,
    )
