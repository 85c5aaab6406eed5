"""Annotated dependencies that keep route signatures short."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from edvent_ai_notes.bootstrap import AiNotes

# The request's unit of work and the token's user, re-exported so routes find every
# alias here.
from edvent_platform.auth import CurrentUser as CurrentUser
from edvent_platform.deps import PageAfter as PageAfter
from edvent_platform.deps import SessionDep as SessionDep


def get_ai_notes(request: Request) -> AiNotes:
    ai_notes: AiNotes = request.app.state.ai_notes
    return ai_notes


AiNotesDep = Annotated[AiNotes, Depends(get_ai_notes)]
