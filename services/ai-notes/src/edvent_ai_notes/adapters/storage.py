"""Lesson bodies from content's S3 bucket (read only), through boto3 on a thread pool."""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from edvent_ai_notes.config import Settings
from edvent_ai_notes.domain.errors import BodyMissing, StorageUnavailable


class LessonBodies:
    def __init__(self, *, client: Any, bucket: str, threads: int) -> None:
        self._client = client
        self.bucket = bucket
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="s3")

    @classmethod
    def from_settings(cls, settings: Settings) -> LessonBodies:
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

    async def read(self, *, key: str) -> bytes:
        """The whole object; `BodyMissing` when there is none, `StorageUnavailable` when
        the store does not answer or refuses."""

        def fetch() -> bytes:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            with response["Body"] as body:
                data: bytes = body.read()
                return data

        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fetch)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404 or error.get("Code") in ("NoSuchKey", "NotFound"):
                raise BodyMissing(f"lesson body {key!r} is missing from storage") from exc
            raise StorageUnavailable(f"S3 refused the read: {error.get('Code')}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"S3 is unreachable: {type(exc).__name__}") from exc

    async def check(self) -> None:
        """Readiness: the bucket answers a signed request."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            self._executor, functools.partial(self._client.head_bucket, Bucket=self.bucket)
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._client.close()
