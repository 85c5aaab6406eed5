"""The local Kafka: a real KRaft broker from the Maven jars, formatted once, restartable."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from edvent_events.connection import KafkaConnection
from edvent_localstack.kafka import CONTRACT_TOPICS, KafkaBroker, create_topics, round_trip
from edvent_localstack.process import free_port
from edvent_localstack.pytest_plugin import read_topic

pytestmark = pytest.mark.integration


def _java_processes_using(path: Path) -> list[int]:
    """Pids of live processes whose command line mentions `path` (the broker's data dir)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:  # exited meanwhile, or not ours to read
            continue
        if argv and argv[0].endswith(b"java") and any(str(path).encode() in a for a in argv):
            found.append(int(proc.name))
    return found


async def _produce(kafka: KafkaConnection, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(**kafka.client_kwargs(), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()


async def _read_all(bootstrap_servers: KafkaConnection, topic: str) -> list[bytes]:
    records = await read_topic(bootstrap_servers, topic, expected=1, timeout=10)
    return [r.value for r in records if r.value is not None]


async def _partition_counts(kafka: KafkaConnection) -> dict[str, int]:
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics()}
    finally:
        await admin.close()


def test_broker_starts_keeps_data_across_restarts_on_new_ports_and_stops(tmp_path: Path) -> None:
    data_dir = tmp_path / "kafka"
    broker = KafkaBroker(
        data_dir=data_dir,
        port=free_port(),
        controller_port=free_port(),
        log_file=tmp_path / "kafka.log",
    )
    try:
        broker.start()
        create_topics(broker.admin, ["launcher.kept"], partitions=2)
        create_topics(broker.admin, ["launcher.kept"], partitions=2)  # idempotent
        round_trip(broker.admin)
        asyncio.run(_produce(broker.admin, "launcher.kept", b"before restart"))
        counts = asyncio.run(_partition_counts(broker.admin))
        assert counts["launcher.kept"] == 2
        assert set(CONTRACT_TOPICS) <= set(counts)
        broker.stop()
        assert not broker.running()

        # Tests pick free ports each time, so a restart must cope with both ports moving
        # (the controller's endpoint is stored in the KRaft quorum state at format time).
        broker.port, broker.controller_port = free_port(), free_port()
        broker.start()
        round_trip(broker.admin)
        values = asyncio.run(_read_all(broker.admin, "launcher.kept"))
        assert values == [b"before restart"]
        broker.stop()

        # Passwords are set on every start: a changed one holds at the next.
        broker.users = {**broker.users, "content": "a-new-content-password"}
        broker.start()
        asyncio.run(_produce(broker.connection("content"), "content.courses", b"new password"))
    finally:
        broker.stop()
    assert _java_processes_using(data_dir) == []
