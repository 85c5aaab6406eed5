"""Kafka topic administration shared by the consumer runner, the CLI, the stack and tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from edvent_events.connection import Kafka, client_kwargs


class TopicCreationError(RuntimeError):
    """The broker refused to create a topic."""


async def ensure_topics(
    bootstrap_servers: Kafka,
    topics: Iterable[str],
    *,
    partitions: int = 1,
    replication: int = 1,
    configs: Mapping[str, str] | None = None,
) -> None:
    """Create the topics that do not exist yet; existing ones are left as they are."""
    wanted = sorted(set(topics))
    if not wanted:
        return
    admin = AIOKafkaAdminClient(**client_kwargs(bootstrap_servers), request_timeout_ms=10_000)
    await admin.start()
    try:
        await ensure_topics_with(
            admin, wanted, partitions=partitions, replication=replication, configs=configs
        )
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


async def ensure_topics_with(
    admin: AIOKafkaAdminClient,
    topics: Iterable[str],
    *,
    partitions: int,
    replication: int = 1,
    configs: Mapping[str, str] | None = None,
) -> None:
    """`ensure_topics` on an admin client the caller already started."""
    wanted = sorted(set(topics))
    existing = set(await admin.list_topics())
    missing = [t for t in wanted if t not in existing]
    if missing:
        response = await admin.create_topics(
            [
                NewTopic(
                    t,
                    num_partitions=partitions,
                    replication_factor=replication,
                    topic_configs=dict(configs or {}),
                )
                for t in missing
            ]
        )
        # The admin client returns per-topic errors instead of raising them.
        for topic, code, *message in response.topic_errors:
            error = for_code(code)
            if code and error is not TopicAlreadyExistsError:
                reason = message[0] if message and message[0] else ""
                raise TopicCreationError(
                    f"creating Kafka topic {topic!r} failed: {error.__name__} {reason}".strip()
                )
    await _wait_for_leaders(admin, wanted)


async def _wait_for_leaders(admin: AIOKafkaAdminClient, topics: list[str]) -> None:
    # CreateTopics returns once the controller committed the topics; the broker's own
    # metadata (what producers see) can lag a little behind.
    while True:
        described = await admin.describe_topics(topics)
        if len(described) == len(topics) and all(
            t["error_code"] == 0
            and t["partitions"]
            and all(p["error_code"] == 0 and p["leader"] >= 0 for p in t["partitions"])
            for t in described
        ):
            return
        await asyncio.sleep(0.1)
