"""The content service's tables, in the `content` schema."""

from __future__ import annotations

from edvent_platform.db import service_metadata

metadata = service_metadata("content")
