"""Opaque list cursors (CONTRACT.md: `limit` and `cursor`, `next_cursor`).

A cursor is the last sort key of a page, as base64url-encoded JSON. Keyset paging on
(created_at, id) keeps pages stable while rows are added; `PageKey` is that key.
Decoding raises ValueError for anything that is not one of ours (answered 422).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class PageKey:
    """Where a page ends: its last row's sort key."""

    created_at: datetime
    id: UUID


def encode_cursor(data: Any) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> Any:
    """The JSON a cursor holds; its shape is for the caller to check."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not a cursor from this API") from exc


def encode_page_key(key: PageKey) -> str:
    return encode_cursor({"t": key.created_at.isoformat(), "id": str(key.id)})


def decode_page_key(cursor: str) -> PageKey:
    try:
        data = decode_cursor(cursor)
        when, key_id = data["t"], data["id"]
        # Checked, not assumed: UUID(123) raises AttributeError, which would be a 500.
        if not isinstance(when, str) or not isinstance(key_id, str):
            raise TypeError("cursor fields are strings")
        created_at = datetime.fromisoformat(when)
        if created_at.tzinfo is None:
            raise ValueError("cursor times have a zone")
        # In UTC here, as the database compares them: year 1 or 9999 with a far-off
        # offset overflows when converted, and must do so here, not in the query.
        return PageKey(created_at=created_at.astimezone(UTC), id=UUID(key_id))
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ValueError("not a cursor from this API") from exc
