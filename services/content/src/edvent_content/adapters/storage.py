"""Lesson bodies in S3, through `edvent_platform.s3` (boto3 on a thread pool).

Every failure to reach the store, or a 5xx from it, becomes `StorageUnavailable`
(the API answers 503 with Retry-After); a missing object becomes `ContentMissing`.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime

from edvent_content.config import Settings
from edvent_content.domain.errors import ContentMissing, StorageUnavailable
from edvent_platform.s3 import S3Bucket

CHUNK = 64 * 1024
MEDIA_TYPE = "text/markdown; charset=utf-8"


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    last_modified: datetime


class LessonStore:
    def __init__(self, bucket: S3Bucket) -> None:
        self._bucket = bucket

    @classmethod
    def from_settings(cls, settings: Settings) -> LessonStore:
        return cls(
            S3Bucket.from_settings(settings, missing=ContentMissing, unavailable=StorageUnavailable)
        )

    async def put(self, *, key: str, data: bytes, sha256: str) -> None:
        """Store `data`; S3 checks it against our SHA-256 and refuses a corrupted upload."""
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
        await self._bucket.run(
            functools.partial(
                self._bucket.client.put_object,
                Bucket=self._bucket.name,
                Key=key,
                Body=data,
                ContentType=MEDIA_TYPE,
                ChecksumSHA256=checksum,
            )
        )

    async def open(self, *, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in chunks; the object is fetched before this returns, so
        an unreachable store fails here and not halfway through a response."""
        response = await self._bucket.run(
            functools.partial(self._bucket.client.get_object, Bucket=self._bucket.name, Key=key)
        )
        body = response["Body"]
        chunks: Iterator[bytes] = body.iter_chunks(CHUNK)

        async def stream() -> AsyncIterator[bytes]:
            try:
                while True:
                    chunk = await self._bucket.in_thread(next, chunks, b"")
                    if not chunk:
                        return
                    yield chunk
            finally:
                await self._bucket.in_thread(body.close)

        return stream()

    async def check(self) -> None:
        await self._bucket.check()

    async def list_objects(self, *, prefix: str) -> list[StoredObject]:
        def collect() -> list[StoredObject]:
            paginator = self._bucket.client.get_paginator("list_objects_v2")
            found: list[StoredObject] = []
            for page in paginator.paginate(Bucket=self._bucket.name, Prefix=prefix):
                found.extend(
                    StoredObject(key=item["Key"], last_modified=item["LastModified"])
                    for item in page.get("Contents", [])
                )
            return found

        return await self._bucket.run(collect)

    async def delete(self, *, keys: list[str]) -> None:
        # DeleteObjects takes at most 1000 keys per request.
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            await self._bucket.run(
                functools.partial(
                    self._bucket.client.delete_objects,
                    Bucket=self._bucket.name,
                    Delete={"Objects": batch, "Quiet": True},
                )
            )

    def close(self) -> None:
        self._bucket.close()
