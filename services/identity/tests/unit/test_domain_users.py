"""Rules for emails, names, passwords and roles."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edvent_identity.domain.errors import LastAdmin, PolicyViolation
from edvent_identity.domain.users import (
    EMAIL_PATTERN,
    FULL_NAME_PATTERN,
    Role,
    check_role_change,
    normalize_email,
    validate_email,
    validate_full_name,
    validate_password,
)


def test_emails_are_trimmed_and_lower_cased() -> None:
    assert normalize_email("  Ada.Lovelace@Example.ORG \n") == "ada.lovelace@example.org"
    assert validate_email(" Ada@Example.org") == "ada@example.org"


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ada",
        "ada@",
        "@example.org",
        "ada@example",
        "ada@example..org",
        "a da@example.org",
        "ada@exa\x00mple.org",
        "x" * 250 + "@example.org",
    ],
)
def test_things_that_are_not_email_addresses_are_refused(email: str) -> None:
    with pytest.raises(PolicyViolation):
        validate_email(email)


@pytest.mark.parametrize("length", [12, 64, 128])
def test_passwords_of_12_to_128_characters_are_accepted(length: int) -> None:
    assert len(validate_password("p" * length)) == length


@pytest.mark.parametrize("length", [0, 11, 129, 1000])
def test_passwords_outside_12_to_128_characters_are_refused(length: int) -> None:
    with pytest.raises(PolicyViolation):
        validate_password("p" * length)


def test_password_length_counts_characters_not_bytes() -> None:
    assert validate_password("🔑" * 12) == "🔑" * 12  # 48 bytes in UTF-8, 12 characters
    with pytest.raises(PolicyViolation):
        validate_password("é" * 11)
    validate_password("é" * 128)  # 256 bytes


def test_passwords_are_nfkc_normalised_so_equivalent_input_matches() -> None:
    composed = "caf\u00e9-password-1"
    decomposed = "cafe\u0301-password-1"
    assert validate_password(composed) == validate_password(decomposed)


def test_full_names_are_trimmed_and_bounded() -> None:
    assert validate_full_name("  Ada Lovelace ") == "Ada Lovelace"
    assert validate_full_name("x" * 200) == "x" * 200
    for bad in ["", "   ", "x" * 201, "Ada\nLovelace", "Ada\u200bLovelace"]:
        with pytest.raises(PolicyViolation):
            validate_full_name(bad)


def test_the_same_role_is_no_change() -> None:
    assert check_role_change(current=Role.ADMIN, new=Role.ADMIN, admin_count=1) is False


def test_an_admin_may_be_demoted_while_another_admin_remains() -> None:
    assert check_role_change(current=Role.ADMIN, new=Role.STUDENT, admin_count=2) is True


def test_the_last_admin_cannot_be_demoted() -> None:
    with pytest.raises(LastAdmin):
        check_role_change(current=Role.ADMIN, new=Role.INSTRUCTOR, admin_count=1)


def test_promotions_need_no_other_admin() -> None:
    assert check_role_change(current=Role.STUDENT, new=Role.ADMIN, admin_count=0) is True


# The OpenAPI document states these patterns; a client that follows them is never refused.
@settings(max_examples=300)
@given(st.from_regex(EMAIL_PATTERN, fullmatch=True).filter(lambda e: len(e) <= 254))
def test_every_email_the_documented_pattern_allows_is_accepted(email: str) -> None:
    assert validate_email(email) == email.strip().lower()


@settings(max_examples=300)
@given(st.from_regex(FULL_NAME_PATTERN, fullmatch=True).filter(lambda n: len(n) <= 200))
def test_every_full_name_the_documented_pattern_allows_is_accepted(name: str) -> None:
    assert validate_full_name(name) == name.strip(" ")


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_names_and_emails_outside_the_documented_patterns_are_refused(text: str) -> None:
    import re

    for pattern, validate in (
        (EMAIL_PATTERN, validate_email),
        (FULL_NAME_PATTERN, validate_full_name),
    ):
        if re.fullmatch(pattern, text) is None:
            with pytest.raises(PolicyViolation):
                validate(text)


def test_a_password_is_counted_as_sent_not_after_normalisation() -> None:
    # "ﬃ" is one character that NFKC makes three: the document says 12 to 128 as sent.
    assert validate_password("ﬃ" * 128) == "ffi" * 128
    with pytest.raises(PolicyViolation):
        validate_password("ﬃ" * 11)
