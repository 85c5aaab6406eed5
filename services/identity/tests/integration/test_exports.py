"""The data export on identity's side: one request per wait, parts stored once, parts
for another export or person dropped, the document served once every part is in, and
nothing left after erasure."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

from edvent_events import exports as sealing
from edvent_events.catalog.ai_notes import AiNotesUserDataExported
from edvent_events.catalog.assessment import AssessmentUserDataExported
from edvent_events.catalog.content import ContentUserDataExported
from edvent_events.exports import UserDataPart
from edvent_identity.db import exports as exports_db
from edvent_identity.usecases import exports

REQUESTED = "edvent.identity.user.export_requested.v1"


def parts_of(
    cls: type[UserDataPart], data: dict[str, Any], *, export_id: uuid.UUID, user_id: uuid.UUID,
    public_key: str,
) -> list[UserDataPart]:  # fmt: skip
    chunks = sealing.seal_part(
        data, public_key=public_key, export_id=export_id, service=cls.service()
    )
    return [
        cls(export_id=export_id, user_id=user_id, chunk=index, chunks=len(chunks), sealed=text,
            exported_at=datetime.now(UTC))
        for index, text in enumerate(chunks)
    ]  # fmt: skip


async def record(identity: Any, part: UserDataPart) -> None:
    async with identity.transaction() as session:
        await exports.record_part(session=session, service=type(part).service(), event=part)


async def test_an_export_is_asked_once_filled_by_parts_and_gone_with_the_account(
    client, accounts, identity, sql, outbox_rows
) -> None:
    account = await accounts.register()
    first = await client.get("/api/v1/users/me/export", headers=account.auth)
    assert first.status_code == 202, first.text
    assert first.headers["Retry-After"] == "2"
    again = await client.get("/api/v1/users/me/export", headers=account.auth)
    assert again.status_code == 202 and again.json()["export_id"] == first.json()["export_id"]
    assert outbox_rows(account.id).count(REQUESTED) == 1

    [(data,)] = sql(
        "SELECT data FROM identity.outbox WHERE ce_type = %s AND key = %s",
        (REQUESTED, str(account.id)),
    )
    assert len(data["public_key"]) == 43
    # Other services' test apps on this broker may answer that request; the parts below
    # go to an export of the test's own, asked a moment later and never published.
    export_id = uuid.uuid4()
    private_key, public_key = sealing.new_keypair()
    async with identity.transaction() as session:
        await exports_db.add(
            session, export_id=export_id, user_id=account.id, private_key=private_key,
            services=["content", "assessment", "ai-notes"], requested_at=datetime.now(UTC),
        )  # fmt: skip
    ids = {"export_id": export_id, "user_id": account.id, "public_key": public_key}

    # Random hex hardly compresses: about 900 KB sealed, two chunks.
    big = {"attempts": [{"n": i, "noise": os.urandom(128).hex()} for i in range(5000)],
           "grades": []}  # fmt: skip
    assessment = parts_of(AssessmentUserDataExported, big, **ids)
    assert len(assessment) >= 2, "several chunks, delivered out of order and twice"
    for part in [*reversed(assessment), assessment[0]]:
        await record(identity, part)
    # Not this export's, or not this person's: dropped.
    stranger = uuid.uuid4()
    forged = {"courses": [{"id": "forged"}]}
    await record(
        identity, parts_of(ContentUserDataExported, forged, **ids | {"user_id": stranger})[0]
    )
    await record(
        identity, parts_of(ContentUserDataExported, forged, **ids | {"export_id": uuid.uuid4()})[0]
    )
    waiting = await client.get("/api/v1/users/me/export", headers=account.auth)
    assert waiting.status_code == 202
    assert waiting.json()["parts_received"] == ["assessment"]

    await record(identity, parts_of(ContentUserDataExported, {"courses": []}, **ids)[0])
    await record(identity, parts_of(AiNotesUserDataExported, {"ai_notes_user": None}, **ids)[0])
    done = await client.get("/api/v1/users/me/export", headers=account.auth)
    assert done.status_code == 200, done.text
    document = done.json()
    assert document["export_id"] == str(export_id)
    assert document["account"]["email"] == account.email
    assert document["courses"] == [] and len(document["attempts"]) == 5000
    assert document["sources"]["assessment"] == ["attempts", "grades"]

    # A part that no longer opens is not served: the export is asked for again.
    sql("UPDATE identity.user_export_parts SET sealed = 'AAAA' WHERE export_id = %s", (export_id,))
    broken = await client.get("/api/v1/users/me/export", headers=account.auth)
    assert broken.status_code == 202, broken.text
    assert broken.json()["export_id"] != str(export_id)
    assert outbox_rows(account.id).count(REQUESTED) == 2

    erased = await client.request(
        "DELETE", "/api/v1/users/me", json={"password": account.password}, headers=account.auth
    )
    assert erased.status_code == 204, erased.text
    assert sql("SELECT count(*) FROM identity.user_exports") == [(0,)]
    assert sql("SELECT count(*) FROM identity.user_export_parts") == [(0,)]
