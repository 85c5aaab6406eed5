"""Annotated dependencies that keep route signatures short."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from edvent_identity.adapters.passwords import Hashing
from edvent_identity.bootstrap import Identity
from edvent_identity.domain.users import Role
from edvent_identity.usecases import users as users_usecases
from edvent_platform.auth import CurrentUser, Principal, require_role

# The client's address as the gateway saw it (X-Forwarded-For from trusted peers only).
from edvent_platform.client_address import ClientAddress as ClientAddress

# The request's unit of work, re-exported so routes find every alias here.
from edvent_platform.deps import ReadSessionDep as ReadSessionDep
from edvent_platform.deps import SessionDep as SessionDep
from edvent_platform.problems import Forbidden


# Dependencies are `async` though they await nothing: FastAPI runs a plain `def` one on
# a worker thread, a hop that costs more than the function.
async def get_identity(request: Request) -> Identity:
    identity: Identity = request.app.state.identity
    return identity


IdentityDep = Annotated[Identity, Depends(get_identity)]


async def hashing_slot(identity: IdentityDep) -> AsyncIterator[Hashing]:
    """Admission to password hashing, taken before any other work of the request:
    it waits for a slot while the hashing queue is full, and is 503 when the wait
    would be too long (`Passwords.slot`)."""
    async with identity.passwords.slot() as hashing:
        yield hashing


HashingDep = Annotated[Hashing, Depends(hashing_slot, scope="function")]


async def signed_in(user: CurrentUser, session: ReadSessionDep) -> Principal:
    """A valid token whose session has not ended (sessions revoked, account disabled
    or gone): identity checks its own accounts, where other services go by events."""
    await users_usecases.current_account(session=session, principal=user)
    return user


SignedIn = Annotated[Principal, Depends(signed_in)]


async def current_admin(
    user: Annotated[Principal, Depends(require_role(Role.ADMIN))], session: SessionDep
) -> Principal:
    """An ADMIN by token *and* now: identity owns the roles, so a demoted admin's
    access token (valid for up to its lifetime) does not keep administering users."""
    account = await users_usecases.current_account(session=session, principal=user)
    if account.role is not Role.ADMIN:
        raise Forbidden("This needs the role ADMIN.")
    return user


AdminUser = Annotated[Principal, Depends(current_admin)]
