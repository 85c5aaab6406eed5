"""Erasing an account (GDPR Art. 17): by its owner with the password, or by an ADMIN.

The row goes (refresh tokens with it, by the foreign key), so email, name and hash are
gone; so does the user's data key, which makes the encrypted email and name in the
events already on Kafka unreadable (crypto-shredding; a tombstone removes the key from
`identity.user-keys`); `user.deleted` is staged in the same transaction. The owner's
route hashes, so it has the usual two steps around the password check.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_events import pii
from edvent_events.catalog.identity import UserDeleted, UserRegistered
from edvent_events.outbox import add_event, outbox
from edvent_identity.adapters.passwords import Hashing
from edvent_identity.db import data_keys as data_keys_db
from edvent_identity.db import owners as owners_db
from edvent_identity.db import throttle as throttle_db
from edvent_identity.db import users as users_db
from edvent_identity.db.tables import User
from edvent_identity.domain.errors import (
    LastAdmin,
    NotAnAdmin,
    OwnsCourses,
    UnknownAccount,
    UserNotFound,
    WrongPassword,
)
from edvent_identity.domain.users import Role, normalize_password
from edvent_identity.usecases import accounts


@dataclass(frozen=True, slots=True)
class SelfErasure:
    """What the first step found: the account and the hash its password must match."""

    user_id: UUID
    password_hash: str


async def start_self_erasure(*, session: AsyncSession, user_id: UUID) -> SelfErasure:
    user = await users_db.by_id(session, user_id)
    if user is None:
        raise UnknownAccount(str(user_id))
    return SelfErasure(user_id=user.id, password_hash=user.password_hash)


async def check_password(*, hashing: Hashing, attempt: SelfErasure, password: str) -> None:
    if not await hashing.verify(attempt.password_hash, normalize_password(password)):
        raise WrongPassword


async def erase_self(*, session: AsyncSession, attempt: SelfErasure) -> None:
    # The admins' lock first, then the row: the order role changes take them in.
    admins = await users_db.lock_admins(session)
    user = await users_db.by_id(session, attempt.user_id, for_update=True)
    if user is None:
        raise UnknownAccount(str(attempt.user_id))
    # The password was checked against this hash; changed since, it proves nothing.
    if user.password_hash != attempt.password_hash:
        raise WrongPassword
    await _erase(session, user=user, admins=admins)


async def erase_user(*, session: AsyncSession, actor_id: UUID, user_id: UUID) -> None:
    """An ADMIN erases an account (their own too, unless they are the only ADMIN)."""
    admins = await users_db.lock_admins(session)
    # Checked again under the lock, as for role changes.
    actor = await users_db.by_id(session, actor_id)
    if actor is None or actor.role is not Role.ADMIN:
        raise NotAnAdmin(str(actor_id))
    user = await users_db.by_id(session, user_id, for_update=True)
    if user is None:
        raise UserNotFound(str(user_id))
    await _erase(session, user=user, admins=admins)


async def _erase(session: AsyncSession, *, user: User, admins: int) -> None:
    """`user` locked, `admins` counted under the admins' lock."""
    if user.role is Role.ADMIN and admins <= 1:
        raise LastAdmin("this is the only ADMIN; promote another user first")
    owned = await owners_db.count_owned(session, owner_id=user.id)
    if owned:
        raise OwnsCourses(courses=owned)
    await throttle_db.forget_account(session, email=user.email)
    # Emails waiting or kept (the address, live links) and open reset/verify tokens.
    await accounts.forget_mail_and_tokens(session=session, user_id=user.id)
    # The outbox keeps sent rows for a while; the registration's row holds the email
    # and the name (in clear for accounts older than data keys), the key's row the key.
    # Deleted, sent or not: a subscriber copes with a `user.deleted` for a user it
    # never heard of.
    await session.execute(
        delete(outbox).where(
            outbox.c.key == str(user.id),
            outbox.c.ce_type.in_((UserRegistered.ce_type, pii.UserKeyIssued.ce_type)),
        )
    )
    # Crypto-shredding: without the key, every copy of the encrypted email and name is
    # noise. The tombstone makes compaction drop the key from `identity.user-keys`.
    await data_keys_db.delete_for(session, user_id=user.id)
    await add_event(session, pii.UserKeyShredded(user_id=user.id))
    deleted_at = await users_db.delete_user(session, user_id=user.id)
    await add_event(session, UserDeleted(user_id=user.id, deleted_at=deleted_at))
