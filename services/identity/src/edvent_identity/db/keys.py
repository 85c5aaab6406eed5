"""Queries on `signing_keys`. Callers own the transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_identity.db.tables import SigningKey


async def lock(session: AsyncSession) -> None:
    """Serialise key generation and rotation across instances and the CLI."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('identity.signing_keys', 0))")
    )


async def active(session: AsyncSession) -> SigningKey | None:
    return (
        await session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None)))
    ).one_or_none()


async def by_kid(session: AsyncSession, kid: str) -> SigningKey | None:
    return await session.get(SigningKey, kid)


async def retire_active(session: AsyncSession) -> None:
    await session.execute(
        update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=func.now())
    )


async def reactivate(session: AsyncSession, kid: str) -> None:
    await session.execute(update(SigningKey).where(SigningKey.kid == kid).values(retired_at=None))


async def replace_private_key(session: AsyncSession, *, kid: str, private_key_pem: str) -> None:
    await session.execute(
        update(SigningKey).where(SigningKey.kid == kid).values(private_key_pem=private_key_pem)
    )


async def add(
    session: AsyncSession,
    *,
    kid: str,
    algorithm: str,
    private_key_pem: str | None,
    public_jwk: dict[str, Any],
) -> None:
    await session.execute(
        insert(SigningKey).values(
            kid=kid, algorithm=algorithm, private_key_pem=private_key_pem, public_jwk=public_jwk
        )
    )


async def published(session: AsyncSession, *, retention: timedelta) -> list[dict[str, Any]]:
    """Public JWKs of the active key and of keys retired less than `retention` ago."""
    statement = (
        select(SigningKey.public_jwk)
        .where(
            or_(
                SigningKey.retired_at.is_(None),
                SigningKey.retired_at > func.now() - retention,
            )
        )
        .order_by(SigningKey.created_at.desc())
    )
    return list(await session.scalars(statement))


async def forget_retired_private_keys(session: AsyncSession, *, retention: timedelta) -> int:
    """Drop the private half of keys no longer published: nothing may sign with them."""
    result = await session.execute(
        update(SigningKey)
        .where(
            SigningKey.retired_at < func.now() - retention,
            SigningKey.private_key_pem.is_not(None),
        )
        .values(private_key_pem=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
