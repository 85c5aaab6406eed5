"""What the platform answers on every route, and how its OpenAPI document says so."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Path
from pydantic import BaseModel, Field

from edvent_platform.auth import CurrentUser, OptionalUser, Principal
from edvent_platform.http import install_platform
from edvent_platform.openapi import problem_responses
from edvent_platform.problems import PROBLEM_JSON


class Thing(BaseModel):
    name: str = Field(min_length=2)


async def needs_user(user: CurrentUser) -> Principal:
    return user


NeedsUser = Annotated[Principal, Depends(needs_user)]


def make_app() -> FastAPI:
    app = FastAPI()
    install_platform(app, readiness={})

    @app.get("/things", responses=problem_responses(403))
    async def list_things(user: OptionalUser) -> list[str]:
        return []

    @app.post("/things", status_code=201)
    async def create_thing(body: Thing, user: CurrentUser) -> Thing:
        return body

    @app.get("/things/{name}", responses=problem_responses(404, descriptions={404: "No thing"}))
    async def get_thing(name: Annotated[str, Path(max_length=10)]) -> Thing:
        return Thing(name=name)

    @app.patch("/things/{name}")
    async def rename_thing(name: str, body: Thing) -> Thing:
        return body

    # Included as services include theirs.
    tags = APIRouter(prefix="/things/{name}/tags")

    @tags.delete("", status_code=204)
    async def clear_tags(name: str, _: NeedsUser) -> None:
        return None

    app.include_router(tags)

    return app


@pytest.fixture
def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_app(), raise_app_exceptions=False),
        base_url="http://t",
    )


async def test_a_body_that_is_not_utf8_is_422_problem(client):
    answer = await client.post(
        "/things", content=b'{"name": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.json()["errors"][0]["loc"] == ["body"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_a_body_of_another_media_type_is_422_problem(client, content_type):
    answer = await client.patch(
        "/things/a", content=b'{"name": "abc"}', headers={"content-type": content_type}
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM_JSON


@pytest.mark.parametrize("method", ["TRACE", "PUT", "OPTIONS"])
async def test_an_undeclared_method_is_405_listing_every_method_of_the_resource(client, method):
    answer = await client.request(method, "/things/a")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.json()["status"] == 405
    # GET and PATCH are two routes on one path; Starlette alone names only the first.
    assert answer.headers["allow"] == "GET, PATCH"


async def test_operation_ids_are_the_route_names_in_camel_case():
    document = make_app().openapi()
    ids = {
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
    }
    assert ids == {"listThings", "createThing", "getThing", "renameThing", "clearTags"}


def test_platform_errors_are_documented_as_problems():
    paths = make_app().openapi()["paths"]
    create = paths["/things"]["post"]["responses"]
    assert set(create) == {"201", "401", "413", "422", "503"}
    for status in ("401", "413", "422", "503"):
        assert create[status]["content"] == {
            PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    assert create["503"]["headers"]["Retry-After"]["required"] is True
    # No body, no token: a path parameter still validates.
    get = paths["/things/{name}"]["get"]["responses"]
    assert set(get) == {"200", "404", "414", "422", "503"}
    assert get["404"]["description"] == "No thing"
    # A token taken through another dependency still counts.
    assert "401" in paths["/things/{name}/tags"]["delete"]["responses"]


def test_an_optional_token_is_declared_optional():
    paths = make_app().openapi()["paths"]
    assert paths["/things"]["get"]["security"] == [{}, {"HTTPBearer": []}]
    assert paths["/things"]["post"]["security"] == [{"HTTPBearer": []}]
    assert set(paths["/things"]["get"]["responses"]) == {"200", "401", "403", "503"}


def test_the_problem_schema_replaces_fastapis_validation_error():
    schemas = make_app().openapi()["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert schemas["Problem"]["required"] == ["type", "title", "status", "detail"]


async def test_allow_names_the_methods_of_the_matching_path_template_only():
    app = FastAPI()
    install_platform(app, readiness={})
    router = APIRouter(prefix="/users")

    @router.get("/me")
    async def me() -> None: ...

    @router.get("/{user_id}")
    async def get_user(user_id: str) -> None: ...

    @router.patch("/{user_id}")
    async def change_user(user_id: str) -> None: ...

    app.include_router(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        me_answer = await client.request("TRACE", "/users/me")
        other = await client.delete("/users/42")
    assert me_answer.headers["allow"] == "GET"
    assert other.headers["allow"] == "GET, PATCH"
