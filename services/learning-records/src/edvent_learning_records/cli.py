"""`edvent-learning-records`: migrate, downgrade, serve, backfill."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from edvent_events.acls import CONSUMES
from edvent_events.topics import IDENTITY_USERS
from edvent_learning_records.config import Settings
from edvent_learning_records.consumers import handlers_for
from edvent_learning_records.domain.statements import Mapper
from edvent_learning_records.usecases.backfill import Replayed, replay_topics
from edvent_platform.cli import service_main
from edvent_platform.db import create_engine, session_factory, transaction

SERVICE_DIR = Path(__file__).resolve().parents[2]
SERVICE = "learning-records"


def backfill_topics() -> list[str]:
    # identity.users first: erasures are known before the other topics' events.
    topics = list(CONSUMES[SERVICE])
    topics.sort(key=lambda topic: topic != IDENTITY_USERS)
    return topics


async def backfill(settings: Settings, *, since: datetime) -> Replayed:
    engine = create_engine(
        settings.database_url, schema=settings.db_schema, app_name=f"{SERVICE}-cli"
    )
    sessions = session_factory(engine)
    try:
        return await replay_topics(
            kafka=settings.kafka,
            topics=backfill_topics(),
            since=since,
            handlers=handlers_for(Mapper(settings.platform_base_url)),
            transaction=lambda: transaction(sessions),
        )
    finally:
        await engine.dispose()


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _backfill(args: argparse.Namespace) -> None:
    replayed = asyncio.run(backfill(Settings(), since=args.since))
    print(
        json.dumps(
            {"read": replayed.read, "applied": replayed.applied, "skipped": replayed.skipped}
        )
    )


def _commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = sub.add_parser(
        "backfill",
        help="replay the consumed topics from a time into statements (known ids are not "
        "duplicated); the running service sends what was queued",
    )
    command.add_argument(
        "--from",
        dest="since",
        type=_moment,
        required=True,
        help="RFC 3339 time, e.g. 2026-12-01T00:00:00Z (no zone: UTC)",
    )
    command.set_defaults(func=_backfill)


def main(argv: list[str] | None = None) -> None:
    service_main(
        prog="edvent-learning-records",
        env_prefix="LEARNING_RECORDS_",
        service_dir=SERVICE_DIR,
        app_factory="edvent_learning_records.main:create_app",
        default_port=8005,
        extra=_commands,
        argv=argv,
    )
