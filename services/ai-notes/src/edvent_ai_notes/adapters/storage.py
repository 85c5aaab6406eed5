"""Lesson bodies from content's S3 bucket (read only), through `edvent_platform.s3`."""

from __future__ import annotations

from edvent_ai_notes.config import Settings
from edvent_ai_notes.domain.errors import BodyMissing, StorageUnavailable
from edvent_platform.s3 import S3Bucket


class LessonBodies:
    def __init__(self, bucket: S3Bucket) -> None:
        self._bucket = bucket

    @classmethod
    def from_settings(cls, settings: Settings) -> LessonBodies:
        return cls(
            S3Bucket.from_settings(settings, missing=BodyMissing, unavailable=StorageUnavailable)
        )

    async def read(self, *, key: str) -> bytes:
        """The whole object; `BodyMissing` when there is none, `StorageUnavailable` when
        the store does not answer or refuses."""

        def fetch() -> bytes:
            response = self._bucket.client.get_object(Bucket=self._bucket.name, Key=key)
            with response["Body"] as body:
                data: bytes = body.read()
                return data

        try:
            return await self._bucket.run(fetch)
        except BodyMissing:
            # The message is the note's failure reason: name the body.
            raise BodyMissing(f"lesson body {key!r} is missing from storage") from None

    def close(self) -> None:
        self._bucket.close()
