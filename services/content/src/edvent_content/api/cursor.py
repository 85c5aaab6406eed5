"""Opaque list cursors: a page's last sort key, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from edvent_content.db.courses import PageKey


def _encode(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(cursor: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def encode_course_cursor(key: PageKey) -> str:
    return _encode({"t": key.created_at.isoformat(), "id": str(key.id)})


def decode_course_cursor(cursor: str) -> PageKey:
    """The key a cursor encodes; ValueError for anything that is not one of ours."""
    try:
        data = _decode(cursor)
        when, key_id = data["t"], data["id"]
        if not isinstance(when, str) or not isinstance(key_id, str):
            raise TypeError("cursor fields are strings")
        created_at = datetime.fromisoformat(when)
        if created_at.tzinfo is None:
            raise ValueError("cursor times have a zone")
        return PageKey(created_at=created_at.astimezone(UTC), id=UUID(key_id))
    except (binascii.Error, ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ValueError("not a cursor from this API") from exc


def encode_lesson_cursor(order_index: int) -> str:
    return _encode({"o": order_index})


def decode_lesson_cursor(cursor: str) -> int:
    try:
        value = _decode(cursor)["o"]
        # bool is an int in Python; the column is a 32-bit integer.
        if type(value) is not int or not 0 <= value < 2**31:
            raise TypeError("order_index is a non-negative integer")
        return value
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise ValueError("not a cursor from this API") from exc
