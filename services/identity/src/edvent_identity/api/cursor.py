"""Opaque list cursors: a page's last sort key, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from uuid import UUID

from edvent_identity.db.users import PageKey


def encode_cursor(key: PageKey) -> str:
    raw = json.dumps({"t": key.created_at.isoformat(), "id": str(key.id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> PageKey:
    """The key a cursor encodes; ValueError for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        created_at = datetime.fromisoformat(data["t"])
        key = PageKey(created_at=created_at, id=UUID(data["id"]))
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise ValueError("not a cursor from this API") from exc
    if created_at.tzinfo is None:
        raise ValueError("not a cursor from this API")
    return key
