"""Lesson bodies in S3, through boto3, whose blocking calls run on a thread pool.

Every failure to reach the store, or a 5xx from it, becomes `StorageUnavailable`
(the API answers 503 with Retry-After); a missing object becomes `ContentMissing`.
"""

from __future__ import annotations

import asyncio
import base64
import functools
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from edvent_content.config import Settings
from edvent_content.domain.errors import ContentMissing, StorageUnavailable

T = TypeVar("T")
CHUNK = 64 * 1024
MEDIA_TYPE = "text/markdown; charset=utf-8"


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    last_modified: datetime


class LessonStore:
    def __init__(self, *, client: Any, bucket: str, threads: int) -> None:
        self._client = client
        self.bucket = bucket
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="s3")

    @classmethod
    def from_settings(cls, settings: Settings) -> LessonStore:
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=(
                settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
            ),
            region_name=settings.s3_region,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=settings.s3_connect_timeout_seconds,
                read_timeout=settings.s3_read_timeout_seconds,
                retries={"max_attempts": settings.s3_max_attempts, "mode": "standard"},
                max_pool_connections=settings.s3_threads,
            ),
        )
        return cls(client=client, bucket=settings.s3_bucket, threads=settings.s3_threads)

    async def _run(self, call: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, call)
        except ClientError as exc:
            if _status(exc) in (404,) or _code(exc) in ("NoSuchKey", "NotFound"):
                raise ContentMissing(str(exc)) from exc
            raise StorageUnavailable(f"S3 refused the request: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"S3 is unreachable: {type(exc).__name__}") from exc

    async def put(self, *, key: str, data: bytes, sha256: str) -> None:
        """Store `data`; S3 checks it against our SHA-256 and refuses a corrupted upload."""
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
        await self._run(
            functools.partial(
                self._client.put_object,
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=MEDIA_TYPE,
                ChecksumSHA256=checksum,
            )
        )

    async def open(self, *, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in chunks; the object is fetched before this returns, so
        an unreachable store fails here and not halfway through a response."""
        response = await self._run(
            functools.partial(self._client.get_object, Bucket=self.bucket, Key=key)
        )
        body = response["Body"]
        chunks: Iterator[bytes] = body.iter_chunks(CHUNK)

        async def stream() -> AsyncIterator[bytes]:
            loop = asyncio.get_running_loop()
            try:
                while True:
                    chunk = await loop.run_in_executor(self._executor, next, chunks, b"")
                    if not chunk:
                        return
                    yield chunk
            finally:
                await loop.run_in_executor(self._executor, body.close)

        return stream()

    async def check(self) -> None:
        """Readiness: the bucket answers a signed request."""
        await self._run(functools.partial(self._client.head_bucket, Bucket=self.bucket))

    async def list_objects(self, *, prefix: str) -> list[StoredObject]:
        def collect() -> list[StoredObject]:
            paginator = self._client.get_paginator("list_objects_v2")
            found: list[StoredObject] = []
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                found.extend(
                    StoredObject(key=item["Key"], last_modified=item["LastModified"])
                    for item in page.get("Contents", [])
                )
            return found

        return await self._run(collect)

    async def delete(self, *, keys: list[str]) -> None:
        # DeleteObjects takes at most 1000 keys per request.
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            await self._run(
                functools.partial(
                    self._client.delete_objects,
                    Bucket=self.bucket,
                    Delete={"Objects": batch, "Quiet": True},
                )
            )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._client.close()


def _status(exc: ClientError) -> int | None:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))
