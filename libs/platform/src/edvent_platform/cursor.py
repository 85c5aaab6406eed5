"""Opaque list cursors (CONTRACT.md: `limit` and `cursor`, `next_cursor`).

A cursor is the last sort key of a page. Keyset paging on (created_at, id) keeps pages
stable while rows are added; `PageKey` is that key. Other lists keep their own key as
base64url-encoded JSON (`encode_cursor`). Decoding raises ValueError for anything that
is not one of ours (answered 422).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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


# A page key as `<microseconds since 1970 UTC>.<id as 32 hex digits>`: plain enough that
# the OpenAPI pattern says exactly which cursors are accepted (every match decodes).
PAGE_KEY_PATTERN = r"^[0-9]{1,16}\.[0-9a-f]{32}$"
PAGE_KEY_MAX_LENGTH = 49
_PAGE_KEY = re.compile(PAGE_KEY_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def encode_page_key(key: PageKey) -> str:
    return f"{(key.created_at - _EPOCH) // _MICROSECOND}.{key.id.hex}"


def decode_page_key(cursor: str) -> PageKey:
    if not _PAGE_KEY.match(cursor):
        raise ValueError("not a cursor from this API")
    micros, hex_id = cursor.split(".")
    return PageKey(created_at=_EPOCH + int(micros) * _MICROSECOND, id=UUID(hex=hex_id))
