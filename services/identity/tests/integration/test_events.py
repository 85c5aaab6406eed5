"""UserRegistered and UserRoleChanged reach the real `identity.users` topic."""

from __future__ import annotations

import uuid
from datetime import datetime

from edvent_events import pii


async def test_registration_publishes_user_registered(client, unique, user_events, sql) -> None:
    email = f"{unique('kafka')}@example.org"
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email.upper(), "password": "correct horse battery staple", "full_name": "K"},
    )
    user = response.json()
    [event] = await user_events(uuid.UUID(user["id"]))
    assert event.headers["ce_type"] == "edvent.identity.user.registered.v1"
    assert event.headers["ce_source"] == "/services/identity"
    assert event.headers["ce_subject"] == user["id"]
    assert event.data["user_id"] == user["id"]
    # The email and name travel encrypted with the user's key (crypto-shredding).
    [(key,)] = sql("SELECT key FROM identity.user_data_keys WHERE user_id = %s", (user["id"],))
    opened = pii.decrypt_fields(event.data, key=bytes(key), user_id=uuid.UUID(user["id"]))
    assert event.data["email"].startswith("enc:v1:")
    assert opened["email"] == email
    assert event.data["role"] == "STUDENT"
    assert opened["full_name"] == "K"
    assert datetime.fromisoformat(event.data["registered_at"]) == datetime.fromisoformat(
        user["created_at"]
    )


async def test_a_role_change_publishes_user_role_changed(client, accounts, user_events) -> None:
    admin = await accounts.admin()
    student = await accounts.register()
    response = await client.patch(
        f"/api/v1/users/{student.id}", json={"role": "INSTRUCTOR"}, headers=admin.auth
    )
    assert response.status_code == 200
    events = await user_events(student.id, until=2)
    assert [e.headers["ce_type"] for e in events] == [
        "edvent.identity.user.registered.v1",
        "edvent.identity.user.role_changed.v1",
    ]
    changed = events[1].data
    assert changed["user_id"] == str(student.id)
    assert (changed["old_role"], changed["new_role"]) == ("STUDENT", "INSTRUCTOR")
    datetime.fromisoformat(changed["changed_at"])


async def test_the_bootstrap_admin_is_announced_as_registered_admin(accounts, user_events) -> None:
    admin = await accounts.admin()
    [event] = await user_events(admin.id)
    assert event.headers["ce_type"] == "edvent.identity.user.registered.v1"
    assert event.data["role"] == "ADMIN"
