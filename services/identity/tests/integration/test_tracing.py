"""The caller's trace survives identity's outbox (tracing on, spans in memory)."""

from __future__ import annotations

from edvent_localstack.testing import assert_outbox_continues, traceparent_header


async def test_the_trace_of_a_registration_survives_the_outbox(client, unique, sql, spans):
    incoming, header = traceparent_header()
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": f"{unique('traced')}@example.org",
            "password": "a long enough password",
            "full_name": "T",
        },
        headers=header,
    )
    assert response.status_code == 201, response.text
    rows = sql("SELECT traceparent FROM identity.outbox WHERE key = %s", (response.json()["id"],))
    assert rows
    for (stored,) in rows:  # every event the registration wrote
        assert_outbox_continues(spans, stored, incoming)
