"""One S3 bucket through boto3, for the services that keep or read objects.

boto3 blocks, so its calls run on a thread pool of the bucket's own (as many threads
as pooled connections). A missing object and an unreachable or refusing store are
raised as the service's own errors, which it passes in. boto3 is not a dependency of
this library: only the services that import this module depend on it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

T = TypeVar("T")


class S3Settings(Protocol):
    """The fields a service's Settings has for its bucket."""

    @property
    def s3_endpoint_url(self) -> str | None: ...
    @property
    def s3_access_key(self) -> str | None: ...
    @property
    def s3_secret_key(self) -> SecretStr | None: ...
    @property
    def s3_region(self) -> str: ...
    @property
    def s3_bucket(self) -> str: ...
    @property
    def s3_connect_timeout_seconds(self) -> float: ...
    @property
    def s3_read_timeout_seconds(self) -> float: ...
    @property
    def s3_max_attempts(self) -> int: ...
    @property
    def s3_threads(self) -> int: ...


class S3Bucket:
    def __init__(
        self,
        *,
        client: Any,
        bucket: str,
        threads: int,
        missing: Callable[[str], Exception],
        unavailable: Callable[[str], Exception],
    ) -> None:
        self.client = client
        self.name = bucket
        self._missing = missing
        self._unavailable = unavailable
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="s3")

    @classmethod
    def from_settings(
        cls,
        settings: S3Settings,
        *,
        missing: Callable[[str], Exception],
        unavailable: Callable[[str], Exception],
    ) -> S3Bucket:
        secret = settings.s3_secret_key
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
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
        return cls(
            client=client,
            bucket=settings.s3_bucket,
            threads=settings.s3_threads,
            missing=missing,
            unavailable=unavailable,
        )

    async def run(self, call: Callable[[], T]) -> T:
        """`call` on the pool; a 404 raises `missing`, any other refusal or failure to
        reach the store raises `unavailable`."""
        try:
            return await self.in_thread(call)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = str(error.get("Code", "unknown"))
            if status == 404 or code in ("NoSuchKey", "NotFound"):
                raise self._missing(str(exc)) from exc
            raise self._unavailable(f"S3 refused the request: {code}") from exc
        except BotoCoreError as exc:
            raise self._unavailable(f"S3 is unreachable: {type(exc).__name__}") from exc

    async def in_thread(self, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)` on the pool, errors as boto3 raised them (reading a body)."""
        # In the caller's context: the S3 call's span and log lines join its trace.
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, context.run, call, *args
        )

    async def check(self) -> None:
        """Readiness: the bucket answers a signed request."""
        await self.run(functools.partial(self.client.head_bucket, Bucket=self.name))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.client.close()
