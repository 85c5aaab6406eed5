"""A person's copy of their data (GDPR Art. 15/20), gathered from every service by events.

`read_or_request` serves a finished export, or says it is on its way, asking the services
(`user.export_requested`) when there is nothing to wait for. `record_part` stores what a
service sent back, in the consumer's inbox transaction. libs/events `exports.py` says how
the parts are sealed so only identity can read them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events import exports as sealing
from edvent_events.catalog.identity import UserExportRequested
from edvent_events.exports import UserDataPart
from edvent_events.outbox import add_event
from edvent_identity.db import exports as exports_db
from edvent_identity.db import users as users_db
from edvent_identity.db.tables import User, UserExport
from edvent_identity.domain import exports as rules
from edvent_identity.domain.exports import Chunk, ExportState, Next
from edvent_identity.usecases.users import current_account
from edvent_platform.auth import Principal

FORMAT = "edvent.user-export.v1"

logger = logging.getLogger("edvent.identity.exports")


@dataclass(frozen=True, slots=True)
class ExportPolicy:
    services: Sequence[str]
    available_for: timedelta
    wait_for: timedelta


@dataclass(frozen=True, slots=True)
class Pending:
    export_id: UUID
    requested_at: datetime
    received: list[str]
    expected: list[str]


@dataclass(frozen=True, slots=True)
class Ready:
    export_id: UUID
    document: dict[str, Any]


async def read_or_request(
    *, session: AsyncSession, principal: Principal, policy: ExportPolicy
) -> Pending | Ready:
    user = await current_account(session=session, principal=principal)
    latest, step = await _latest_and_step(session, user_id=user.id, policy=policy)
    if step is Next.SERVE and latest is not None:
        try:
            return Ready(latest.id, await _document(session, user=user, export=latest))
        except sealing.UnopenablePartError:
            # A part that does not open (chunks of two sealings, say, after a replayed
            # request) cannot be served: forget it and ask the services again.
            logger.warning("export %s has a part that does not open; asking again", latest.id)
            await exports_db.forget(session, export_id=latest.id)
    elif step is Next.WAIT and latest is not None:
        return await _pending(session, latest)
    # One request at a time per user (two clicks send one), decided again under a lock
    # on the user's row that leaves sign-ins (FOR KEY SHARE) free; a broken export just
    # forgotten is asked for anew whatever came before it.
    await users_db.lock_without_key(session, user.id)
    if step is not Next.SERVE:
        latest, step = await _latest_and_step(session, user_id=user.id, policy=policy)
        if step is Next.WAIT and latest is not None:
            return await _pending(session, latest)
    now = datetime.now(UTC)
    export_id = uuid4()
    private_key, public_key = sealing.new_keypair()
    await exports_db.add(
        session,
        export_id=export_id,
        user_id=user.id,
        private_key=private_key,
        services=policy.services,
        requested_at=now,
    )
    await add_event(
        session,
        UserExportRequested(
            user_id=user.id, export_id=export_id, public_key=public_key, requested_at=now
        ),
    )
    return Pending(export_id, now, [], list(policy.services))


async def _latest_and_step(
    session: AsyncSession, *, user_id: UUID, policy: ExportPolicy
) -> tuple[UserExport | None, Next]:
    latest = await exports_db.latest(session, user_id=user_id)
    state = None if latest is None else ExportState(latest.requested_at, latest.completed_at)
    step = rules.next_step(
        state, now=datetime.now(UTC), available_for=policy.available_for, wait_for=policy.wait_for
    )
    return latest, step


async def _pending(session: AsyncSession, export: UserExport) -> Pending:
    chunks = await exports_db.chunks_of(session, export_id=export.id)
    received = rules.complete_services(export.services, (_chunk(c) for c in chunks))
    return Pending(export.id, export.requested_at, sorted(received), list(export.services))


async def record_part(*, session: AsyncSession, service: str, event: UserDataPart) -> None:
    """Keep a chunk of a service's part; the export is complete when every part is in.

    A part for an export that expired or never was, or from a service the export did not
    ask, is dropped: it is sealed to a key that is gone or was never ours to use."""
    export = await exports_db.by_id(session, event.export_id, for_update=True)
    if export is None or export.user_id != event.user_id or service not in export.services:
        return
    await exports_db.add_chunk(
        session,
        export_id=export.id,
        service=service,
        chunk=event.chunk,
        chunks=event.chunks,
        sealed=event.sealed,
        exported_at=event.exported_at,
    )
    chunks = await exports_db.chunks_of(session, export_id=export.id)
    if rules.complete_services(export.services, (_chunk(c) for c in chunks)) == set(
        export.services
    ):
        await exports_db.mark_completed(session, export_id=export.id, at=datetime.now(UTC))


async def prune(*, session: AsyncSession, policy: ExportPolicy) -> int:
    """Forget exports older than any that can still be served or awaited."""
    keep = max(policy.wait_for, policy.available_for) + policy.wait_for
    return await exports_db.prune(session, requested_before=datetime.now(UTC) - keep)


def _chunk(row: Any) -> Chunk:
    return Chunk(service=row.service, chunk=row.chunk, chunks=row.chunks)


async def _document(session: AsyncSession, *, user: User, export: UserExport) -> dict[str, Any]:
    chunks = await exports_db.chunks_of(session, export_id=export.id)
    parts: dict[str, dict[str, Any]] = {}
    for service in export.services:
        texts = [c.sealed for c in chunks if c.service == service]
        parts[service] = sealing.open_part(
            texts, private_key=export.private_key, export_id=export.id, service=service
        )
    sessions = await exports_db.sessions_of(session, user_id=user.id)
    emails = await exports_db.emails_to(session, user_id=user.id)
    base: dict[str, Any] = {
        "format": FORMAT,
        "export_id": str(export.id),
        "requested_at": export.requested_at.isoformat(),
        "completed_at": export.completed_at.isoformat() if export.completed_at else None,
        "sources": {"identity": ["account", "sessions", "emails"]}
        | {service: sorted(part) for service, part in parts.items()},
        "account": {
            "id": str(user.id),
            "email": user.email,
            "full_name": user.full_name,
            "role": user.role.value,
            "created_at": user.created_at.isoformat(),
            "updated_at": user.updated_at.isoformat(),
            "email_verified": user.email_verified,
            "disabled": user.disabled,
        },
        "sessions": [
            {
                "signed_in_at": token.family_started_at.isoformat(),
                "last_refreshed_at": token.issued_at.isoformat(),
                "expires_at": token.expires_at.isoformat(),
                "ended_at": token.revoked_at.isoformat() if token.revoked_at else None,
            }
            for token in sessions
        ],
        "emails": [
            {
                "kind": email.kind,
                "to": email.to_address,
                "subject": email.subject,
                "created_at": email.created_at.isoformat(),
                "sent_at": email.sent_at.isoformat() if email.sent_at else None,
            }
            for email in emails
        ],
    }
    return rules.assemble(base, parts)
