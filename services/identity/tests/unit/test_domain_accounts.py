"""Sub-second `iat`, the session cut-off, single-use tokens and the email templates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from edvent_identity.adapters.smtp import Outgoing, build, message_id
from edvent_identity.domain.accounts import hash_one_time_token, new_one_time_token, usable
from edvent_identity.domain.emails import (
    password_changed_email,
    password_reset_email,
    retry_delay_seconds,
    verification_email,
)
from edvent_identity.domain.tokens import access_token_claims, issued_at_claim, session_cutoff
from edvent_platform.auth import Principal, session_ended
from edvent_platform.problems import Unauthorized

ORIGIN = "https://learn.example.org"


def principal_issued(at: datetime) -> Principal:
    # As the verifier reads it back: datetime.fromtimestamp(iat).
    iat = issued_at_claim(at)
    return Principal(
        user_id=uuid.uuid4(),
        role="STUDENT",
        token_id="t",
        issued_at=datetime.fromtimestamp(iat, UTC),
    )


def counts(principal: Principal, not_before: datetime) -> bool:
    try:
        session_ended(principal, not_before=not_before, deleted=False)
    except Unauthorized:
        return False
    return True


def test_iat_has_milliseconds() -> None:
    moment = datetime(2026, 12, 7, 12, 0, 0, 123_999, tzinfo=UTC)
    claims = access_token_claims(
        user_id=uuid.uuid4(),
        role="STUDENT",
        issuer="i",
        audience="a",
        issued_at=moment,
        lifetime=timedelta(minutes=15),
        token_id="j",
    )
    assert claims["iat"] == 1_796_644_800.123  # floored to the millisecond
    assert isinstance(claims["exp"], int)


def test_a_token_issued_just_before_the_cutoff_is_refused_and_just_after_counts() -> None:
    cut = datetime(2026, 12, 7, 12, 0, 0, 500_400, tzinfo=UTC)
    not_before = session_cutoff(cut)
    assert not counts(principal_issued(cut - timedelta(milliseconds=400)), not_before)
    assert not counts(principal_issued(cut - timedelta(microseconds=300)), not_before)
    # The cut-off's own instant is still "before": the token may have been signed in it.
    assert not counts(principal_issued(cut), not_before)
    assert counts(principal_issued(cut + timedelta(milliseconds=1)), not_before)
    assert counts(principal_issued(cut + timedelta(milliseconds=2)), not_before)


def test_one_time_tokens_have_256_bits_and_are_stored_hashed() -> None:
    token, stored = new_one_time_token()
    assert len(token) >= 43  # 32 bytes, base64url
    assert stored == hash_one_time_token(token) and token.encode() not in stored
    assert new_one_time_token()[0] != token


def test_a_one_time_token_is_usable_once_and_until_it_expires() -> None:
    now = datetime.now(UTC)
    assert usable(expires_at=now + timedelta(minutes=1), used_at=None, now=now)
    assert not usable(expires_at=now + timedelta(minutes=1), used_at=now, now=now)
    assert not usable(expires_at=now, used_at=None, now=now)


def test_links_use_the_web_origin_and_bodies_come_in_text_and_html() -> None:
    verify = verification_email(full_name="Ada <b>", origin=ORIGIN + "/", token="a+b/c")
    assert f"{ORIGIN}/verify-email?token=a%2Bb%2Fc" in verify.text
    assert f"{ORIGIN}/verify-email?token=a%2Bb%2Fc" in verify.html
    assert "<b>" not in verify.html and "Ada &lt;b&gt;" in verify.html
    reset = password_reset_email(origin=ORIGIN, token="tok", valid_minutes=30)
    assert f"{ORIGIN}/reset-password?token=tok" in reset.text and "30 minutes" in reset.text
    assert 'href="https://learn.example.org/reset-password?token=tok"' in reset.html
    changed = password_changed_email(full_name="Ada", origin=ORIGIN)
    assert "changed" in changed.subject and changed.html.startswith("<!doctype html>")


def test_a_message_carries_a_message_id_made_from_its_row() -> None:
    row = uuid.uuid4()
    message = build(
        Outgoing(id=row, to_address="ada@example.org", subject="s", text="t", html="<p>h</p>"),
        from_address="Edvent <no-reply@learn.example.org>",
    )
    assert message["Message-ID"] == f"<{row}@learn.example.org>"
    assert message_id(row, "Edvent <no-reply@learn.example.org>") == message["Message-ID"]
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]


def test_retries_back_off_exponentially_up_to_a_cap() -> None:
    delays = [retry_delay_seconds(attempts=n, base=5, cap=60) for n in range(1, 7)]
    assert delays == [5, 10, 20, 40, 60, 60]
