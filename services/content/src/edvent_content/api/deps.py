"""Annotated dependencies that keep route signatures short."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_content.bootstrap import Content


def get_content(request: Request) -> Content:
    content: Content = request.app.state.content
    return content


ContentDep = Annotated[Content, Depends(get_content)]


async def unit_of_work(content: ContentDep) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed when the route function returns (before
    the answer is sent), rolled back when it raises."""
    async with content.transaction() as session:
        yield session


# scope="function": commit before the response goes out, so a 2xx means committed.
SessionDep = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]
