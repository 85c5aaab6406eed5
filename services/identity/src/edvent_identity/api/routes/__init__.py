from fastapi import APIRouter

from edvent_identity.api.routes import auth, users

routers: list[APIRouter] = [auth.router, users.router]
