"""Crypto-shredding on the real broker: the email never travels in clear, the user's key
on `identity.user-keys` opens it, and an erasure destroys the key everywhere identity
keeps it (its table, its outbox, a tombstone on the compacted topic)."""

from __future__ import annotations

import json

import pytest

from edvent_events import pii
from edvent_events.catalog.identity import UserRegistered
from edvent_events.topics import COMPACTED_TOPIC_CONFIG, IDENTITY_USER_KEYS, IDENTITY_USERS
from edvent_localstack.pytest_plugin import read_topic


async def test_the_email_is_sealed_on_kafka_and_unreadable_after_the_erasure(
    client, accounts, kafka, sql, user_events
) -> None:
    account = await accounts.register()
    key = str(account.id).encode()
    email = account.email.encode()

    [registered] = await user_events(account.id)
    assert registered.headers["ce_type"] == UserRegistered.ce_type
    # No message on the topic shows the email in clear, in its value or its headers.
    everything = await read_topic(kafka.admin, IDENTITY_USERS, expected=1, timeout=5)
    assert everything
    for record in everything:
        assert email not in (record.value or b"")
        assert all(email not in value for _, value in record.headers)

    # With the key from identity.user-keys, the data team reads it.
    keys = await pii.read_user_keys(kafka.admin)
    assert account.id in keys
    opened = pii.decrypt_fields(registered.data, key=keys[account.id], user_id=account.id)
    assert opened["email"] == account.email
    assert opened["full_name"] == "Test User"
    [(stored,)] = sql("SELECT key FROM identity.user_data_keys WHERE user_id = %s", (account.id,))
    assert bytes(stored) == keys[account.id]

    erased = await client.request(
        "DELETE", "/api/v1/users/me", json={"password": account.password}, headers=account.auth
    )
    assert erased.status_code == 204, erased.text

    # The key is gone from identity's table and from its outbox...
    assert sql("SELECT 1 FROM identity.user_data_keys WHERE user_id = %s", (account.id,)) == []
    assert sql(
        "SELECT ce_type FROM identity.outbox WHERE key = %s AND topic = %s",
        (str(account.id), IDENTITY_USER_KEYS),
    ) == [(pii.UserKeyShredded.ce_type,)]

    # ...and a tombstone (a null value) follows the key on the compacted topic.
    records = await read_topic(
        kafka.admin,
        IDENTITY_USER_KEYS,
        expected=2,
        where=lambda record: record.key == key,
    )
    assert [record.value is None for record in records] == [False, True]
    assert json.loads(records[0].value)["user_id"] == str(account.id)
    headers = dict(records[-1].headers)
    assert headers["ce_type"] == pii.UserKeyShredded.ce_type.encode()
    assert account.id not in await pii.read_user_keys(kafka.admin)

    # What stays on identity.users is ciphertext no key opens any more.
    sealed = registered.data["email"]
    assert pii.is_encrypted(sealed)
    with pytest.raises(pii.UndecryptableError):
        pii.decrypt(sealed, key=pii.new_key(), user_id=account.id)


async def test_keys_are_per_user(accounts, sql) -> None:
    one, two = await accounts.register(), await accounts.register()
    rows = sql(
        "SELECT key FROM identity.user_data_keys WHERE user_id = ANY(%s)", ([one.id, two.id],)
    )
    assert len({bytes(row[0]) for row in rows}) == 2


async def test_the_keys_topic_is_compacted(kafka) -> None:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, IDENTITY_USER_KEYS)]
        )
    finally:
        await admin.close()
    [resource] = response.resources
    # (error code, error message, type, name, [(name, value, ...), ...])
    config = {entry[0]: entry[1] for entry in resource[4]}
    assert {name: config[name] for name in COMPACTED_TOPIC_CONFIG} == COMPACTED_TOPIC_CONFIG
