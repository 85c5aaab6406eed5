"""The broker's door (issue 23): every client authenticates, and ACLs decide.

Against the session's broker, as the real principals: a client without credentials
(or with a wrong password) gets nowhere; a service writes only its own topics and reads
only what it consumes, in its own groups; `data-team` reads every domain topic and
writes nothing.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from edvent_events.acls import DOMAIN_TOPICS
from edvent_events.connection import KafkaConnection
from edvent_events.topics import ASSESSMENT_ATTEMPTS, CONTENT_COURSES, IDENTITY_USERS

pytestmark = pytest.mark.integration


async def produce(kafka: KafkaConnection, topic: str, *, idempotent: bool = True) -> None:
    producer = AIOKafkaProducer(**kafka.client_kwargs(), acks="all", enable_idempotence=idempotent)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}", key=b"door")
    finally:
        await producer.stop()


async def consume(consumer: AIOKafkaConsumer, *, timeout: float = 30) -> None:
    """Start and poll for a while: the broker's refusal surfaces as the poll's error."""
    await consumer.start()
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        await consumer.getmany(timeout_ms=500)


async def test_a_client_without_credentials_is_refused(kafka) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(producer.start(), timeout=30)
    await producer.stop()


async def test_a_wrong_password_is_refused(kafka) -> None:
    forged = kafka.connection("content").as_user("content", "not-the-password")
    producer = AIOKafkaProducer(**forged.client_kwargs())
    with pytest.raises(KafkaError):
        await asyncio.wait_for(producer.start(), timeout=30)
    await producer.stop()


async def test_a_service_writes_its_own_topic(kafka) -> None:
    await produce(kafka.connection("content"), CONTENT_COURSES)


async def test_a_service_writing_another_services_topic_is_refused(kafka) -> None:
    # The forged role change of issue 23, tried with content's real credentials.
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(kafka.connection("content"), IDENTITY_USERS)


async def test_a_service_cannot_read_a_topic_it_does_not_consume(kafka) -> None:
    consumer = AIOKafkaConsumer(
        ASSESSMENT_ATTEMPTS, **kafka.client_kwargs("content"), group_id="content-door"
    )
    with pytest.raises(TopicAuthorizationFailedError):
        await consume(consumer)
    await consumer.stop()


async def test_a_service_cannot_join_another_services_group(kafka) -> None:
    consumer = AIOKafkaConsumer(
        IDENTITY_USERS,
        **kafka.client_kwargs("content"),
        group_id="assessment",
        enable_auto_commit=False,
    )
    with pytest.raises(GroupAuthorizationFailedError):
        await consume(consumer)
    await consumer.stop()


async def test_data_team_reads_every_domain_topic_in_its_own_groups(kafka) -> None:
    await produce(kafka.admin, IDENTITY_USERS)
    consumer = AIOKafkaConsumer(
        **kafka.client_kwargs("data-team"),
        group_id=f"data-team.{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, 0) for topic in DOMAIN_TOPICS]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        assert set(ends) == set(partitions)
        record = await asyncio.wait_for(consumer.getone(TopicPartition(IDENTITY_USERS, 0)), 30)
        assert record.topic == IDENTITY_USERS
        await consumer.commit()  # its own group
    finally:
        await consumer.stop()


async def test_data_team_cannot_write_or_create_topics(kafka) -> None:
    data_team = kafka.connection("data-team")
    # An idempotent producer is refused before any topic: no WRITE anywhere, so no
    # producer id (ClusterAuthorizationFailed); a plain one is refused per topic.
    with pytest.raises(ClusterAuthorizationFailedError):
        await produce(data_team, IDENTITY_USERS)
    for topic in DOMAIN_TOPICS:
        with pytest.raises(TopicAuthorizationFailedError):
            await produce(data_team, topic, idempotent=False)
    admin = AIOKafkaAdminClient(**data_team.client_kwargs())
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic("data-team.own", 1, 1)])
        [(_topic, code, *_rest)] = response.topic_errors
        assert code == TopicAuthorizationFailedError.errno
    finally:
        await admin.close()
