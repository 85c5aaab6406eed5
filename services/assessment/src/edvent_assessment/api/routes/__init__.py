from fastapi import APIRouter

from edvent_assessment.api.routes import attempts, exams

routers: list[APIRouter] = [exams.router, attempts.router]
