"""Annotated dependencies that keep route signatures short."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from edvent_assessment.bootstrap import Assessment

# The request's unit of work, re-exported so routes find every alias here.
from edvent_platform.deps import SessionDep as SessionDep


def get_assessment(request: Request) -> Assessment:
    assessment: Assessment = request.app.state.assessment
    return assessment


AssessmentDep = Annotated[Assessment, Depends(get_assessment)]
