"""Lesson bodies: what a valid one is, where it is stored, titles of things."""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from edvent_content.domain.errors import ContentTooLarge, InvalidInput

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
MAX_ORDER_INDEX = 2**31 - 1  # a 32-bit integer column
KEY_PREFIX = "courses/"


def object_key(*, course_id: UUID, lesson_id: UUID, sha256: str) -> str:
    """Per version: a new body gets a new key, so a published object is never
    overwritten and readers never see half of a write."""
    return f"{KEY_PREFIX}{course_id}/lessons/{lesson_id}/{sha256}.md"


# The rules as patterns on the text as sent, so the OpenAPI document states them exactly.
# Whitespace is what Python's str.strip() and isspace() take (listed, since JSON
# Schema's \\s is another set); text has no NUL (PostgreSQL cannot store it).
_WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL_PATTERN = r"^[^\x00]*$"
NOT_BLANK_PATTERN = rf"^[^\x00]*[^\x00{_WHITESPACE}][^\x00]*$"
_NOT_BLANK = re.compile(NOT_BLANK_PATTERN)


def _refuse_surrogates(value: str, what: str) -> None:
    # JSON can carry lone surrogates ("\\ud800"), which are not text.
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise InvalidInput(f"the {what} is not valid Unicode text")


def clean_title(value: str) -> str:
    """The title trimmed: 1 to TITLE_MAX characters as sent, not blank, no NUL."""
    if len(value) > TITLE_MAX:
        raise InvalidInput(f"the title may have at most {TITLE_MAX} characters")
    if "\x00" in value:
        raise InvalidInput("the title must not contain NUL characters")
    if not _NOT_BLANK.fullmatch(value):
        raise InvalidInput("the title must not be empty")
    _refuse_surrogates(value, "title")
    return value.strip()


def clean_description(value: str) -> str:
    """The description trimmed: at most DESCRIPTION_MAX characters as sent, no NUL."""
    if len(value) > DESCRIPTION_MAX:
        raise InvalidInput(f"the description may have at most {DESCRIPTION_MAX} characters")
    if "\x00" in value:
        raise InvalidInput("the description must not contain NUL characters")
    _refuse_surrogates(value, "description")
    return value.strip()


@dataclass(frozen=True, slots=True)
class Body:
    """A checked lesson body: UTF-8 Markdown, not blank, within the limit."""

    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def _refuse_nul(text: str) -> None:
    if "\x00" in text:
        raise InvalidInput("the lesson body must not contain NUL characters")


@dataclass
class BodyReader:
    """Takes a body chunk by chunk: refuses it as soon as it passes `limit` bytes or
    stops being UTF-8, hashing as it goes, so nothing over the limit is ever held."""

    limit: int
    _chunks: list[bytes] = field(default_factory=list)
    _size: int = 0
    _hash: Any = field(default_factory=hashlib.sha256)
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")("strict")
    )
    _blank: bool = True

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._size += len(chunk)
        if self._size > self.limit:
            raise ContentTooLarge(self.limit)
        try:
            text = self._decoder.decode(chunk)
        except UnicodeDecodeError:
            raise InvalidInput("the lesson body is not UTF-8 text") from None
        _refuse_nul(text)
        if self._blank and text and not text.isspace():
            self._blank = False
        self._hash.update(chunk)
        self._chunks.append(chunk)

    def finish(self) -> Body:
        try:
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InvalidInput(
                "the lesson body is not UTF-8 text (it ends mid-character)"
            ) from None
        if self._blank:
            raise InvalidInput("the lesson body is empty")
        return Body(data=b"".join(self._chunks), sha256=self._hash.hexdigest())


def body_from_text(text: str, *, limit: int) -> Body:
    """The body of a lesson given as JSON text (POST .../lessons)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        # JSON can carry lone surrogates ("\ud800"), which are not text.
        raise InvalidInput("the lesson body is not valid Unicode text") from None
    # The same rules as BodyReader, checked on the text we have: decoding the bytes
    # back (up to 5 MiB per upload) would only prove they are UTF-8.
    if len(data) > limit:
        raise ContentTooLarge(limit)
    _refuse_nul(text)
    if not text or text.isspace():
        raise InvalidInput("the lesson body is empty")
    return Body(data=data, sha256=hashlib.sha256(data).hexdigest())


def etag_matches(if_none_match: str | None, sha256: str) -> bool:
    """Whether an If-None-Match header names this version (RFC 9110 weak comparison)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*":
            return True
        tag = tag.removeprefix("W/").strip('"')
        if tag == sha256:
            return True
    return False
