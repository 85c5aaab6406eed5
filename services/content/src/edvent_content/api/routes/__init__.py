from fastapi import APIRouter

from edvent_content.api.routes import courses, lessons

routers: list[APIRouter] = [courses.router, lessons.router]
