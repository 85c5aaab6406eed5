"""Annotated dependencies that keep route signatures short."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from edvent_assessment.bootstrap import Assessment
from edvent_assessment.domain.access import Actor
from edvent_assessment.usecases import users as users_usecase
from edvent_platform.auth import CurrentUser

# The request's unit of work and the list cursor, re-exported so routes find every alias here.
from edvent_platform.deps import PageAfter as PageAfter
from edvent_platform.deps import ReadSessionDep as ReadSessionDep
from edvent_platform.deps import SessionDep as SessionDep


async def get_assessment(request: Request) -> Assessment:  # async: no worker-thread hop
    assessment: Assessment = request.app.state.assessment
    return assessment


AssessmentDep = Annotated[Assessment, Depends(get_assessment)]


async def _actor(user: CurrentUser, session: SessionDep) -> Actor:
    return await users_usecase.actor_for(session=session, principal=user)


# Every assessment route needs a token.
SignedIn = Annotated[Actor, Depends(_actor)]


async def _reading_actor(user: CurrentUser, session: ReadSessionDep) -> Actor:
    return await users_usecase.actor_for(session=session, principal=user)


# For routes that only read: the actor and the route share the read-only session (no
# BEGIN and COMMIT round trips; a write through it fails).
SignedInReading = Annotated[Actor, Depends(_reading_actor)]
