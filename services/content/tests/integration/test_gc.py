"""`edvent-content gc-objects` removes bodies no lesson points at, and only those."""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import ClientError

from edvent_localstack.services import SERVICES


def exists(s3: Any, bucket: str, key: str) -> bool:
    client = s3.client()
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return False
    finally:
        client.close()
    return True


def gc(settings: Any, s3: Any, *args: str) -> str:
    env = {
        "CONTENT_S3_ENDPOINT_URL": s3.endpoint_url,
        "CONTENT_S3_ACCESS_KEY": s3.access_key,
        "CONTENT_S3_SECRET_KEY": s3.secret_key,
        "CONTENT_S3_BUCKET": settings.s3_bucket,
        "PATH": "/usr/bin:/bin",
    }
    result = SERVICES["content"].run(
        "gc-objects", *args, database_url=settings.database_url, env=env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_gc_objects_removes_replaced_bodies_and_orphans_of_failed_writes(
    client, catalogue, people, make_settings, s3, bucket
) -> None:
    course = await catalogue.course(people.owner)
    lesson = await catalogue.lesson(people.owner, course["id"], body="old", order_index=0)
    replaced = await client.put(
        f"/api/v1/lessons/{lesson['id']}/content",
        content=b"current",
        headers={**people.owner.auth, "Content-Type": "text/markdown"},
    )
    current = replaced.json()["content_url"]
    # Stored in S3, then refused by the database (order_index taken): an orphan.
    failed = await client.post(
        f"/api/v1/courses/{course['id']}/lessons",
        json={"title": "Clash", "content_markdown": "orphan", "order_index": 0},
        headers=people.owner.auth,
    )
    assert failed.status_code == 409
    orphan_sha = hashlib.sha256(b"orphan").hexdigest()
    client_s3 = s3.client()
    listed = client_s3.list_objects_v2(Bucket=bucket, Prefix=f"courses/{course['id']}/")
    client_s3.close()
    keys = {item["Key"] for item in listed["Contents"]}
    [orphan] = [key for key in keys if key.endswith(f"{orphan_sha}.md")]
    assert keys == {lesson["content_url"], current, orphan}

    settings = make_settings()
    # Young objects may belong to uploads still on their way to the database: kept.
    assert "deleted 0" in gc(settings, s3)
    assert all(exists(s3, bucket, key) for key in keys)

    dry = gc(settings, s3, "--min-age-hours", "0", "--dry-run")
    assert f"would delete {orphan}" in dry
    assert exists(s3, bucket, orphan)

    output = gc(settings, s3, "--min-age-hours", "0")
    assert f"deleted {orphan}" in output
    assert f"deleted {lesson['content_url']}" in output
    assert not exists(s3, bucket, orphan)
    assert not exists(s3, bucket, lesson["content_url"])
    assert exists(s3, bucket, current)
    read = await client.get(f"/api/v1/lessons/{lesson['id']}/content", headers=people.owner.auth)
    assert read.content == b"current"


async def test_a_deleted_lessons_bodies_go_after_the_short_grace_and_no_sooner(
    client, catalogue, people, make_settings, s3, bucket
) -> None:
    course = await catalogue.course(people.owner)
    kept = await catalogue.lesson(people.owner, course["id"], body="kept", order_index=0)
    doomed = await catalogue.lesson(people.owner, course["id"], body="doomed", order_index=1)
    replaced = await client.put(
        f"/api/v1/lessons/{kept['id']}/content",
        content=b"kept, new",
        headers={**people.owner.auth, "Content-Type": "text/markdown"},
    )
    assert replaced.status_code == 200
    deleted = await client.delete(f"/api/v1/lessons/{doomed['id']}", headers=people.owner.auth)
    assert deleted.status_code == 204

    settings = make_settings()
    # Within the grace, nothing goes.
    assert "deleted 0" in gc(settings, s3)
    assert exists(s3, bucket, doomed["content_url"])

    output = gc(settings, s3, "--orphan-min-age-minutes", "0")
    # The deleted lesson's body goes; the replaced body of a live lesson waits its 24 h.
    assert f"deleted {doomed['content_url']}" in output
    assert not exists(s3, bucket, doomed["content_url"])
    assert exists(s3, bucket, kept["content_url"])
    assert exists(s3, bucket, replaced.json()["content_url"])
