"""A person's data export (GDPR Art. 15/20), gathered over Kafka and sealed for identity.

Services never call each other, so `GET /users/me/export` is assembled from events:

1. identity publishes `user.export_requested` with a fresh X25519 public key, keeping the
   private key in its own database;
2. every service that holds something about the person answers on its own
   `<service>.user-exports` topic with `user_data.exported`: its part as JSON,
   compressed, sealed to that public key (ephemeral X25519, HKDF-SHA256, AES-256-GCM, the
   export id and the service as associated data), cut into chunks that each fit a Kafka
   message;
3. identity stores the chunks and, once every expected part is in, serves the download.

The parts stay on the topics until retention removes them, but only identity could ever
open them, and it deletes the private key when the download expires or the account is
erased: from then on every copy is unreadable (crypto-shredding, as in `pii.py`). Data
teams can see that an export happened, never what it held.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import AwareDatetime, Field

from edvent_events.contract import Event
from edvent_events.outbox import add_event

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from edvent_events.catalog.identity import UserExportRequested

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
# Characters of sealed text per event: well under the relay's 1 MiB message limit
# (`outbox.MAX_MESSAGE_BYTES`) with the envelope around it.
CHUNK_CHARS: Final = 512 * 1024
_INFO: Final = b"edvent user export v1"


class UnopenablePartError(ValueError):
    """Not a part sealed to this key for this export and service, or it was altered."""


def new_keypair() -> tuple[bytes, str]:
    """A private key to keep (raw 32 bytes) and its public half for the request event."""
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private.private_bytes_raw(), _b64(public)


def seal_part(
    data: Mapping[str, Any], *, public_key: str, export_id: UUID, service: str
) -> list[str]:
    """The part as chunks of sealed text, in order (at least one)."""
    recipient = X25519PublicKey.from_public_bytes(_unb64(public_key, KEY_BYTES))
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = _derive(ephemeral.exchange(recipient), ephemeral_public)
    nonce = os.urandom(NONCE_BYTES)
    plain = zlib.compress(json.dumps(data, separators=(",", ":"), default=str).encode(), 6)
    sealed = AESGCM(key).encrypt(nonce, plain, _aad(export_id, service))
    text = _b64(ephemeral_public + nonce + sealed)
    return [text[start : start + CHUNK_CHARS] for start in range(0, len(text), CHUNK_CHARS)]


def open_part(
    chunks: Sequence[str], *, private_key: bytes, export_id: UUID, service: str
) -> dict[str, Any]:
    raw = _unb64("".join(chunks))
    if len(raw) < KEY_BYTES + NONCE_BYTES + TAG_BYTES:
        raise UnopenablePartError("too short")
    ephemeral_public = raw[:KEY_BYTES]
    nonce = raw[KEY_BYTES : KEY_BYTES + NONCE_BYTES]
    private = X25519PrivateKey.from_private_bytes(private_key)
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        plain = AESGCM(_derive(shared, ephemeral_public)).decrypt(
            nonce, raw[KEY_BYTES + NONCE_BYTES :], _aad(export_id, service)
        )
    except (InvalidTag, ValueError) as exc:
        raise UnopenablePartError("wrong key, export or service, or the part was altered") from exc
    try:
        data = json.loads(zlib.decompress(plain))
    except (zlib.error, ValueError) as exc:
        raise UnopenablePartError("sealed, but not a compressed JSON object") from exc
    if not isinstance(data, dict):
        raise UnopenablePartError("sealed, but not a JSON object")
    return data


def _derive(shared: bytes, ephemeral_public: bytes) -> bytes:
    # The ephemeral public key as salt binds the key to this one sealing.
    return HKDF(hashes.SHA256(), KEY_BYTES, salt=ephemeral_public, info=_INFO).derive(shared)


def _aad(export_id: UUID, service: str) -> bytes:
    return f"{export_id}:{service}".encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str, length: int | None = None) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise UnopenablePartError("not base64url") from exc
    if length is not None and len(raw) != length:
        raise UnopenablePartError(f"a key is {length} bytes, not {len(raw)}")
    return raw


class UserDataPart(Event):
    """The fields every service's `user_data.exported` event shares (see the module).

    Not registered itself: each producing service registers its own subclass on its own
    topic, so the broker's ACLs and the `ce_source` check keep one writer per topic.
    """

    key_field = "user_id"

    export_id: UUID = Field(
        description="The export this part answers (from `user.export_requested`)."
    )
    user_id: UUID = Field(description="Whose data it is; also the Kafka key and ce_subject.")
    chunk: int = Field(ge=0, description="This chunk's position, from 0.")
    chunks: int = Field(ge=1, description="How many chunks make the part.")
    sealed: str = Field(
        min_length=1,
        description=(
            "This chunk of the sealed part: the concatenated chunks are base64url of"
            " ephemeral X25519 public key | nonce | AES-256-GCM ciphertext of the"
            " zlib-compressed JSON; readable only with identity's private key"
            ' (libs/events README, "Data exports").'
        ),
    )
    exported_at: AwareDatetime = Field(description="When the service gathered the part (RFC 3339).")

    @classmethod
    def service(cls) -> str:
        """The producing service's name (`/services/ai-notes` → `ai-notes`): it seals and
        identity opens the part under this name."""
        return cls.source.rsplit("/", 1)[1]


async def send_part(
    session: AsyncSession,
    part: type[UserDataPart],
    *,
    request: UserExportRequested,
    data: Mapping[str, Any],
) -> None:
    """Answer an export request with this service's data, in the caller's transaction
    (a consumer's inbox transaction: a redelivered request sends nothing twice)."""
    chunks = seal_part(
        data, public_key=request.public_key, export_id=request.export_id, service=part.service()
    )
    now = datetime.now(UTC)
    for index, text in enumerate(chunks):
        await add_event(
            session,
            part(
                export_id=request.export_id,
                user_id=request.user_id,
                chunk=index,
                chunks=len(chunks),
                sealed=text,
                exported_at=now,
            ),
        )
