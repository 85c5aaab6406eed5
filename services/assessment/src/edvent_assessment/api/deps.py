"""Annotated dependencies that keep route signatures short."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_assessment.bootstrap import Assessment


def get_assessment(request: Request) -> Assessment:
    assessment: Assessment = request.app.state.assessment
    return assessment


AssessmentDep = Annotated[Assessment, Depends(get_assessment)]


async def unit_of_work(assessment: AssessmentDep) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed when the route function returns (before
    the answer is sent), rolled back when it raises."""
    async with assessment.transaction() as session:
        yield session


# scope="function": commit before the response goes out, so a 2xx means committed.
SessionDep = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]
