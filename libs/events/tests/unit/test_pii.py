"""Personal fields sealed per user (crypto-shredding): what goes in comes out only with
the user's key and id."""

from __future__ import annotations

import base64
import uuid

import pytest

from edvent_events import pii
from edvent_events.catalog import UserRegistered
from edvent_events.samples import SAMPLE_USER_KEY, user_registered

USER = uuid.UUID("0b8e2a4c-5d21-4f6e-9a10-3c7d2e8f1a01")


def test_a_value_decrypts_with_the_users_key_and_id() -> None:
    key = pii.new_key()
    sealed = pii.encrypt("ada@example.com", key=key, user_id=USER)
    assert pii.decrypt(sealed, key=key, user_id=USER) == "ada@example.com"
    assert pii.decrypt(pii.encrypt("Zoë Ñ 名前", key=key, user_id=USER), key=key, user_id=USER) == (
        "Zoë Ñ 名前"
    )


def test_the_format_is_a_prefix_and_base64url_of_nonce_and_ciphertext() -> None:
    key = pii.new_key()
    sealed = pii.encrypt("ada@example.com", key=key, user_id=USER)
    assert sealed.startswith("enc:v1:") and pii.is_encrypted(sealed)
    body = sealed.removeprefix("enc:v1:")
    assert set(body) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    # 12-byte nonce, the text, a 16-byte GCM tag.
    assert len(raw) == 12 + len("ada@example.com") + 16
    assert b"ada" not in raw
    # A fresh nonce each time: the same text never looks the same twice.
    assert pii.encrypt("ada@example.com", key=key, user_id=USER) != sealed


def test_another_key_or_another_user_id_cannot_decrypt() -> None:
    key = pii.new_key()
    sealed = pii.encrypt("ada@example.com", key=key, user_id=USER)
    with pytest.raises(pii.UndecryptableError):
        pii.decrypt(sealed, key=pii.new_key(), user_id=USER)
    # Copied onto another user's event, the value does not open with that user's id.
    with pytest.raises(pii.UndecryptableError):
        pii.decrypt(sealed, key=key, user_id=uuid.uuid4())


@pytest.mark.parametrize(
    "value",
    ["ada@example.com", "enc:v1:", "enc:v1:!!!", "enc:v1:AAAA", "enc:v2:" + "A" * 60],
)
def test_anything_else_is_refused_as_undecryptable(value: str) -> None:
    with pytest.raises(pii.UndecryptableError):
        pii.decrypt(value, key=pii.new_key(), user_id=USER)


def test_a_tampered_value_is_refused() -> None:
    key = pii.new_key()
    sealed = pii.encrypt("ada@example.com", key=key, user_id=USER)
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(pii.UndecryptableError):
        pii.decrypt(flipped, key=key, user_id=USER)


def test_keys_are_32_bytes_and_travel_as_base64() -> None:
    key = pii.new_key()
    assert len(key) == 32 and pii.new_key() != key
    assert pii.decode_key(pii.encode_key(key)) == key
    with pytest.raises(ValueError, match="32 bytes"):
        pii.encrypt("x", key=key[:16], user_id=USER)
    with pytest.raises(ValueError, match="32 bytes"):
        pii.decode_key(base64.b64encode(b"short").decode())
    message = pii.key_message(user_id=USER, key=key)
    assert message.topic == "identity.user-keys" and message.subject == str(USER)
    assert message.model_dump(mode="json") == {"user_id": str(USER), "key": pii.encode_key(key)}


def test_an_erasure_is_a_tombstone_for_the_users_key() -> None:
    shredded = pii.UserKeyShredded(user_id=USER)
    assert shredded.tombstone and shredded.subject == str(USER)
    assert not pii.UserKeyIssued.tombstone


def test_a_registration_still_fits_its_v1_schema_with_sealed_fields() -> None:
    key = pii.new_key()
    event = user_registered(
        email=pii.encrypt("ada@example.com", key=key, user_id=USER),
        full_name=pii.encrypt("Ada Lovelace", key=key, user_id=USER),
    )
    decoded = UserRegistered.decode_data(event.model_dump_json())
    assert pii.decrypt_fields(decoded.model_dump(mode="json"), key=key, user_id=USER) == {
        "user_id": str(USER),
        "email": "ada@example.com",
        "full_name": "Ada Lovelace",
        "role": "STUDENT",
        "registered_at": "2026-01-12T09:00:00Z",
    }


def test_the_documented_sample_opens_with_the_sample_key() -> None:
    event = user_registered()
    opened = pii.decrypt_fields(
        event.model_dump(mode="json"), key=SAMPLE_USER_KEY, user_id=event.user_id
    )
    assert (opened["email"], opened["full_name"]) == ("ada@example.com", "Ada Lovelace")
