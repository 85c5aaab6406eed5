"""Personal data in events, encrypted per person (crypto-shredding).

identity gives each user a data key (32 random bytes) and publishes it on the compacted
topic `identity.user-keys`. Fields of an event that hold a person's email or name carry
`enc:v1:<base64url(nonce | ciphertext)>`: AES-256-GCM with a random 96-bit nonce and the
user id (its canonical UUID text) as associated data, so a value copied onto another
user's event does not decrypt. At erasure identity deletes the key, and publishes a
tombstone for it: every copy of the ciphertext, wherever it went, is then unreadable.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any, ClassVar, Final
from uuid import UUID

from aiokafka import AIOKafkaConsumer, TopicPartition
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Field

from edvent_events.connection import Kafka, client_kwargs
from edvent_events.contract import Event
from edvent_events.topics import IDENTITY_USER_KEYS

PREFIX: Final = "enc:v1:"
KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12


class UndecryptableError(ValueError):
    """Not a value this key sealed for this user: wrong key, wrong user, or tampered."""


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def is_encrypted(value: str) -> bool:
    return value.startswith(PREFIX)


def encrypt(text: str, *, key: bytes, user_id: UUID) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_checked(key)).encrypt(nonce, text.encode(), _aad(user_id))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def decrypt(value: str, *, key: bytes, user_id: UUID) -> str:
    if not is_encrypted(value):
        raise UndecryptableError(f"not {PREFIX}…")
    body = value[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise UndecryptableError("not base64url") from exc
    # A GCM tag alone is 16 bytes; anything shorter was cut.
    if len(raw) < NONCE_BYTES + 16:
        raise UndecryptableError("too short")
    try:
        plain = AESGCM(_checked(key)).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(user_id))
    except InvalidTag as exc:
        raise UndecryptableError("wrong key or user id, or the value was altered") from exc
    return plain.decode()


def decrypt_fields(data: dict[str, Any], *, key: bytes, user_id: UUID) -> dict[str, Any]:
    """An event's data with each `enc:v1:` value decrypted (the rest as it is)."""
    return {
        name: decrypt(value, key=key, user_id=user_id)
        if isinstance(value, str) and is_encrypted(value)
        else value
        for name, value in data.items()
    }


def encode_key(key: bytes) -> str:
    """The key as `identity.user-keys` carries it: standard base64."""
    return base64.b64encode(_checked(key)).decode()


def decode_key(text: str) -> bytes:
    return _checked(base64.b64decode(text, validate=True))


def _checked(key: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise ValueError(f"a data key is {KEY_BYTES} bytes, not {len(key)}")
    return key


def _aad(user_id: UUID) -> bytes:
    return str(user_id).encode()


# What identity publishes on `identity.user-keys` (through its outbox, keyed by user id).
# Not in the event catalog: key material for decrypting, not a fact about the domain.


class UserKeyIssued(Event):
    """A user's data key: the value is `{"user_id": ..., "key": <base64 of 32 bytes>}`."""

    topic: ClassVar[str] = IDENTITY_USER_KEYS
    ce_type: ClassVar[str] = "edvent.identity.user_key.issued.v1"
    source: ClassVar[str] = "/services/identity"
    key_field: ClassVar[str] = "user_id"

    user_id: UUID = Field(description="The user the key belongs to; also the Kafka key.")
    key: str = Field(description="AES-256 key, standard base64.")


class UserKeyShredded(Event):
    """The user was erased: a tombstone (null value) for the user's key."""

    topic: ClassVar[str] = IDENTITY_USER_KEYS
    ce_type: ClassVar[str] = "edvent.identity.user_key.shredded.v1"
    source: ClassVar[str] = "/services/identity"
    key_field: ClassVar[str] = "user_id"
    tombstone: ClassVar[bool] = True

    user_id: UUID


def key_message(*, user_id: UUID, key: bytes) -> UserKeyIssued:
    return UserKeyIssued(user_id=user_id, key=encode_key(key))


async def read_user_keys(
    bootstrap_servers: Kafka, *, topic: str = IDENTITY_USER_KEYS
) -> dict[UUID, bytes]:
    """The keys on the topic up to its end when called: the latest per user, without the
    users whose key was shredded. `bootstrap_servers` with credentials that may read it
    (`KafkaConnection`: data-team, or the admin)."""
    # Subscribed at first only so that start() waits for the topic's metadata.
    consumer = AIOKafkaConsumer(
        topic,
        **client_kwargs(bootstrap_servers),
        group_id=None,
        enable_auto_commit=False,
    )
    await consumer.start()
    keys: dict[UUID, bytes] = {}
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.unsubscribe()
        if not partitions:
            return keys
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        # Compaction leaves gaps in the offsets: done when the position reaches the end.
        left = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while left:
            batch = await consumer.getmany(*left, timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    if record.key is None:
                        continue
                    user_id = UUID(record.key.decode())
                    if record.value is None:
                        keys.pop(user_id, None)
                    else:
                        keys[user_id] = decode_key(json.loads(record.value)["key"])
            left = {tp for tp in left if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
    return keys
