from fastapi import APIRouter

from edvent_ai_notes.api.routes import notes

routers: list[APIRouter] = [notes.router]
