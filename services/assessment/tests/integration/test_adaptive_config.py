"""Adaptive exam settings and question parameters are validated with the field's path."""

from __future__ import annotations

import pytest


async def create(client, owner, course_id, config):
    return await client.post(
        "/api/v1/exams",
        json={
            "course_id": course_id,
            "title": "Adaptive",
            "duration_seconds": 600,
            "passing_score_percent": 50,
            "config": config,
        },
        headers=owner.auth,
    )


@pytest.mark.parametrize(
    ("config", "loc"),
    [
        ({"mode": "adaptive", "max_items": 0}, ["body", "config", "adaptive", "max_items"]),
        ({"mode": "adaptive", "model": "3pl"}, ["body", "config", "adaptive", "model"]),
        ({"mode": "adaptive", "min_items": "5"}, ["body", "config", "adaptive", "min_items"]),
        (
            {"mode": "adaptive", "target_standard_error": 0},
            ["body", "config", "adaptive", "target_standard_error"],
        ),
        ({"mode": "adaptive", "speed": 1}, ["body", "config", "adaptive", "speed"]),
        ({"mode": "sometimes"}, ["body", "config"]),
    ],
)
async def test_bad_adaptive_settings_are_422_at_their_field(
    client, factory, people, sql, config, loc
) -> None:
    course = await factory.course(people.owner)
    response = await create(client, people.owner, course, config)
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["errors"]] == [loc]
    assert sql("SELECT count(*) FROM assessment.exams") == [(0,)]


@pytest.mark.parametrize(
    ("config", "minimum"),
    [
        # min_items left at its default (5): what schemathesis sent, valid by the schema.
        ({"mode": "adaptive", "max_items": 2}, 5),
        ({"mode": "adaptive", "min_items": 10, "max_items": 5}, 10),
        ({"mode": "adaptive", "min_items": 10.0, "max_items": 5.0}, 10),
    ],
)
async def test_max_items_below_min_items_is_a_422_at_max_items_and_nothing_is_stored(
    client, factory, people, sql, config, minimum
) -> None:
    # Refused, not adjusted: lowering min_items would change what the instructor asked.
    course = await factory.course(people.owner)
    response = await create(client, people.owner, course, config)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "config", "adaptive", "max_items"]
    assert error["type"] == "max_items_below_min_items"
    assert f"at least min_items ({minimum}" in error["msg"]
    assert sql("SELECT count(*) FROM assessment.exams") == [(0,)]


async def test_max_items_equal_to_min_items_is_stored_as_given(client, factory, people) -> None:
    course = await factory.course(people.owner)
    response = await create(
        client, people.owner, course, {"mode": "adaptive", "min_items": 3, "max_items": 3}
    )
    assert response.status_code == 201, response.text
    config = response.json()["config"]
    assert (config["min_items"], config["max_items"]) == (3, 3)


async def test_an_adaptive_config_is_stored_with_its_defaults(client, factory, people) -> None:
    course = await factory.course(people.owner)
    response = await create(client, people.owner, course, {"mode": "adaptive", "model": "2pl"})
    assert response.status_code == 201, response.text
    config = response.json()["config"]
    assert (config["mode"], config["model"], config["min_items"], config["max_items"]) == (
        "adaptive", "2pl", 5, 30,
    )  # fmt: skip


@pytest.mark.parametrize("discrimination", [0, -1, 11])
async def test_a_discrimination_must_be_positive(client, factory, people, discrimination) -> None:
    course = await factory.course(people.owner)
    exam = (await create(client, people.owner, course, {"mode": "adaptive"})).json()
    response = await client.post(
        f"/api/v1/exams/{exam['id']}/questions",
        json={
            "prompt": "Q",
            "kind": "single_choice",
            "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
            "correct_option_ids": ["a"],
            "discrimination": discrimination,
        },
        headers=people.owner.auth,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "discrimination"]
