"""Simulated students through the real use cases and database take the same path the
engine-level simulation computes: same questions, same estimates, same stop."""

from __future__ import annotations

import math

import numpy as np

from edvent_assessment.domain.adaptive import (
    AdaptiveConfig,
    Bank,
    Item,
    Response,
    next_step,
    selection_rng,
)
from edvent_assessment.domain.simulation import make_bank
from edvent_assessment.testing import create_exam, run_students


async def test_students_through_the_service_follow_the_engine(app, sql) -> None:
    sessions = app.state.runtime.sessions
    items = make_bank(size=40, model="2pl", seed=3)
    config = AdaptiveConfig(
        mode="adaptive", model="2pl", min_items=5, max_items=12, target_standard_error=0.45
    )
    exam_id = await create_exam(sessions, items=items, config=config)
    abilities = np.random.default_rng(4).normal(0, 1, 25)
    run = await run_students(
        sessions, exam_id=exam_id, items=items, config=config, abilities=abilities, seed=5
    )
    assert len(run.students) == 25
    assert 5 <= run.mean_items <= 12

    (questions,) = [
        row[0] for row in sql(
            "SELECT array_agg(id::text ORDER BY position) FROM assessment.questions"
            " WHERE exam_id = %s", (exam_id,),
        )
    ]  # fmt: skip
    bank = Bank(
        [
            Item(qid, item.difficulty, item.discrimination)
            for qid, item in zip(questions, items, strict=True)
        ],
        model="2pl",
    )
    for student in run.students:
        responses: list[Response] = []
        for position, (served, correct) in enumerate(student.answers):
            step = next_step(
                bank=bank,
                config=config,
                responses=responses,
                rng=selection_rng(seed=str(student.attempt_id), position=position),
            )
            assert step.next_item is not None and step.next_item.id == questions[served]
            responses.append(Response(questions[served], correct))
        final = next_step(
            bank=bank,
            config=config,
            responses=responses,
            rng=selection_rng(seed=str(student.attempt_id), position=len(responses)),
        )
        assert final.next_item is None
        assert math.isclose(final.estimate.ability, student.ability, abs_tol=1e-9)
    completed = sql(
        "SELECT count(*) FROM assessment.exam_attempts WHERE exam_id = %s AND status = 'completed'",
        (exam_id,),
    )
    assert completed == [(25,)]
