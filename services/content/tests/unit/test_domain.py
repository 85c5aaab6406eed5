"""The content rules alone: who sees and changes what, what a lesson body must be."""

from __future__ import annotations

import hashlib
import re
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edvent_content.api.cursor import (
    LESSON_CURSOR_PATTERN,
    decode_lesson_cursor,
    encode_lesson_cursor,
)
from edvent_content.domain import access
from edvent_content.domain.access import Actor, CourseFacts
from edvent_content.domain.content import (
    DESCRIPTION_MAX,
    NO_NUL_PATTERN,
    NOT_BLANK_PATTERN,
    TITLE_MAX,
    BodyReader,
    body_from_text,
    clean_description,
    clean_title,
    etag_matches,
    object_key,
)
from edvent_content.domain.errors import (
    ContentTooLarge,
    CourseNotFound,
    InvalidInput,
    LessonNotFound,
    NotAllowed,
)

OWNER = uuid.uuid4()
DRAFT = CourseFacts(owner_id=OWNER, is_published=False)
PUBLISHED = CourseFacts(owner_id=OWNER, is_published=True)
owner = Actor(OWNER, "INSTRUCTOR")
other = Actor(uuid.uuid4(), "INSTRUCTOR")
student = Actor(uuid.uuid4(), "STUDENT")
admin = Actor(uuid.uuid4(), "ADMIN")


def test_drafts_are_invisible_except_to_owner_and_admin() -> None:
    for actor in (None, student, other):
        with pytest.raises(CourseNotFound):
            access.check_course_visible(actor, DRAFT)
    for actor in (owner, admin):
        access.check_course_visible(actor, DRAFT)


def test_a_visible_course_without_the_right_is_forbidden_not_hidden() -> None:
    for actor in (student, other):
        with pytest.raises(NotAllowed):
            access.check_course_manageable(actor, PUBLISHED)


def test_a_demoted_owner_keeps_no_rights_over_their_course() -> None:
    demoted = Actor(OWNER, "STUDENT")
    with pytest.raises(CourseNotFound):
        access.check_course_manageable(demoted, DRAFT)


def test_draft_lessons_of_published_courses_are_hidden_from_readers() -> None:
    with pytest.raises(LessonNotFound):
        access.check_lesson_visible(student, PUBLISHED, published=False)
    access.check_lesson_visible(student, PUBLISHED, published=True)
    with pytest.raises(LessonNotFound):
        access.check_lesson_visible(None, DRAFT, published=True)


def test_lists_show_what_each_role_may_see() -> None:
    assert access.course_filter(None) == access.CourseFilter()
    assert access.course_filter(student) == access.CourseFilter()
    assert access.course_filter(owner) == access.CourseFilter(also_owner=OWNER)
    assert access.course_filter(admin) == access.CourseFilter(everything=True)


def test_a_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    reader = BodyReader(limit=10)
    reader.feed(b"12345")
    with pytest.raises(ContentTooLarge):
        reader.feed(b"678901")


def test_a_character_split_across_chunks_is_fine() -> None:
    reader = BodyReader(limit=100)
    encoded = "café".encode()
    reader.feed(encoded[:4])
    reader.feed(encoded[4:])
    body = reader.finish()
    assert body.data == encoded
    assert body.sha256 == hashlib.sha256(encoded).hexdigest()


@pytest.mark.parametrize("text", ["", " \n", "\ud800"])
def test_blank_or_invalid_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        body_from_text(text, limit=100)


def test_a_json_body_follows_the_streamed_bodys_rules() -> None:
    body = body_from_text("# café\n", limit=8)
    assert body.data == "# café\n".encode()
    assert body.sha256 == hashlib.sha256(body.data).hexdigest()
    with pytest.raises(ContentTooLarge):
        body_from_text("# cafés\n", limit=8)
    with pytest.raises(InvalidInput):
        body_from_text("a\x00b", limit=8)


def test_each_version_has_its_own_key() -> None:
    course, lesson = uuid.uuid4(), uuid.uuid4()
    key = object_key(course_id=course, lesson_id=lesson, sha256="ab" * 32)
    assert key == f"courses/{course}/lessons/{lesson}/{'ab' * 32}.md"


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ('"abc"', True),
        ("abc", True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ("*", True),
        ('"abcd"', False),
    ],
)
def test_if_none_match(header: str | None, matches: bool) -> None:
    assert etag_matches(header, "abc") is matches


def test_cursors_round_trip_and_refuse_anything_else() -> None:
    assert decode_lesson_cursor(encode_lesson_cursor(7)) == 7
    for bad in ("", "e30", "eyJvIjp0cnVlfQ", "eyJvIjotMX0", "!!!", "-1", "12345678901", "1\n"):
        with pytest.raises(ValueError, match="cursor"):
            decode_lesson_cursor(bad)


# The OpenAPI document states these patterns: whatever matches them is accepted,
# whatever does not is refused.
@given(st.from_regex(LESSON_CURSOR_PATTERN, fullmatch=True))
def test_every_lesson_cursor_the_documented_pattern_allows_is_accepted(cursor: str) -> None:
    assert 0 <= decode_lesson_cursor(cursor) < 2**31


@settings(max_examples=300)
@given(st.from_regex(NOT_BLANK_PATTERN, fullmatch=True).filter(lambda t: len(t) <= TITLE_MAX))
def test_every_title_the_documented_pattern_allows_is_accepted(title: str) -> None:
    assert clean_title(title) == title.strip()


@settings(max_examples=300)
@given(st.text(max_size=30))
def test_titles_and_descriptions_outside_the_documented_patterns_are_refused(text: str) -> None:
    if re.fullmatch(NOT_BLANK_PATTERN, text) is None:
        with pytest.raises(InvalidInput):
            clean_title(text)
    if re.fullmatch(NO_NUL_PATTERN, text) is None:
        with pytest.raises(InvalidInput):
            clean_description(text)
    else:
        assert clean_description(text) == text.strip()


def test_titles_and_descriptions_count_characters_as_sent() -> None:
    assert clean_title(" " + "x" * (TITLE_MAX - 1)) == "x" * (TITLE_MAX - 1)
    with pytest.raises(InvalidInput):
        clean_title(" " + "x" * TITLE_MAX)
    with pytest.raises(InvalidInput):
        clean_description("x" * (DESCRIPTION_MAX + 1))
