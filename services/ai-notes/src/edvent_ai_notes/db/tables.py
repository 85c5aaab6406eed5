"""The ai-notes service's tables, in the `ai_notes` schema."""

from __future__ import annotations

from edvent_platform.db import service_metadata

metadata = service_metadata("ai_notes")
