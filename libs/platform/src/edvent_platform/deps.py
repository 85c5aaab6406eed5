"""Request dependencies every service uses: the request's unit of work, the list cursor.

The transaction rule of the whole codebase: a use case takes the session its caller
owns and neither opens nor commits a transaction. For a request that owner is
`unit_of_work`, reached through `SessionDep`; a consumer hands over its inbox
transaction; a command opens one with `edvent_platform.db.transaction`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_platform.cursor import (
    PAGE_KEY_MAX_LENGTH,
    PAGE_KEY_PATTERN,
    PageKey,
    decode_page_key,
)


async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session: committed when the route function returns (before the
    answer is sent), rolled back when it raises.

    Not a `session.begin()` block: a route may end a read-only transaction early
    (`rollback()`) to give its connection back before slow work such as S3, and the
    session begins the next one on its own.
    """
    sessions: async_sessionmaker[AsyncSession] = request.app.state.runtime.sessions
    async with sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


# scope="function": commit before the response goes out, so a 2xx means committed.
SessionDep = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]


def page_after(
    cursor: Annotated[
        str | None,
        Query(
            max_length=PAGE_KEY_MAX_LENGTH,
            pattern=PAGE_KEY_PATTERN,
            description="`next_cursor` of the previous page.",
        ),
    ] = None,
) -> PageKey | None:
    """The `cursor` query parameter of a keyset-paged list; 422 when it is not ours."""
    if cursor is None:
        return None
    try:
        return decode_page_key(cursor)
    except ValueError:
        raise RequestValidationError(
            [{"loc": ("query", "cursor"), "msg": "not a valid cursor", "type": "value_error"}]
        ) from None


PageAfter = Annotated[PageKey | None, Depends(page_after)]
