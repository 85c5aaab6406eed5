"""Refresh-token rules, access-token claims and the login throttle rule."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from edvent_identity.domain.throttle import SlowdownRule, ThrottleRule, retry_after, slowdown_wait
from edvent_identity.domain.tokens import (
    RefreshTokenState,
    RefreshVerdict,
    access_token_claims,
    hash_refresh_token,
    judge_refresh,
    new_refresh_token,
    refresh_expiry,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def test_refresh_tokens_are_256_random_bits_and_stored_as_sha256() -> None:
    token = new_refresh_token()
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert token != new_refresh_token()
    assert len(hash_refresh_token(token)) == 32
    assert hash_refresh_token(token) == hash_refresh_token(token)


@pytest.mark.parametrize(
    ("state", "verdict"),
    [
        (None, RefreshVerdict.UNKNOWN),
        (
            RefreshTokenState(
                expires_at=LATER, rotated_at=None, revoked_at=None, family_started_at=NOW
            ),
            RefreshVerdict.VALID,
        ),
        (
            RefreshTokenState(
                expires_at=LATER, rotated_at=NOW, revoked_at=None, family_started_at=NOW
            ),
            RefreshVerdict.REUSED,
        ),
        # Reuse wins over revocation and expiry: it is evidence of a stolen token.
        (
            RefreshTokenState(
                expires_at=NOW, rotated_at=NOW, revoked_at=NOW, family_started_at=NOW
            ),
            RefreshVerdict.REUSED,
        ),
        (
            RefreshTokenState(
                expires_at=LATER, rotated_at=None, revoked_at=NOW, family_started_at=NOW
            ),
            RefreshVerdict.REVOKED,
        ),
        (
            RefreshTokenState(
                expires_at=NOW, rotated_at=None, revoked_at=None, family_started_at=NOW
            ),
            RefreshVerdict.EXPIRED,
        ),
        # Fresh, but the login it belongs to is older than a family may live.
        (
            RefreshTokenState(
                expires_at=LATER,
                rotated_at=None,
                revoked_at=None,
                family_started_at=NOW - timedelta(days=30),
            ),
            RefreshVerdict.FAMILY_EXPIRED,
        ),
    ],
)
def test_a_presented_refresh_token_is_judged_by_its_state(
    state: RefreshTokenState | None, verdict: RefreshVerdict
) -> None:
    assert judge_refresh(state, now=NOW, family_max_age=timedelta(days=30)) is verdict


def test_access_token_claims_carry_what_services_need() -> None:
    user_id = uuid.uuid4()
    claims = access_token_claims(
        user_id=user_id,
        role="INSTRUCTOR",
        issuer="edvent-identity",
        audience="edvent",
        issued_at=NOW,
        lifetime=timedelta(minutes=15),
        token_id="t-1",
    )
    assert claims == {
        "sub": str(user_id),
        "role": "INSTRUCTOR",
        "iss": "edvent-identity",
        "aud": "edvent",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 900,
        "jti": "t-1",
    }


RULE = ThrottleRule(max_failures=5, window=timedelta(minutes=15))


def test_fewer_failures_than_the_limit_allow_a_try() -> None:
    assert retry_after(RULE, nth_latest_failure=None, now=NOW) is None


def test_at_the_limit_the_wait_lasts_until_the_oldest_counted_failure_leaves_the_window() -> None:
    fifth_latest = NOW - timedelta(minutes=10)
    assert retry_after(RULE, nth_latest_failure=fifth_latest, now=NOW) == 300


def test_the_wait_is_at_least_one_second() -> None:
    almost_gone = NOW - RULE.window + timedelta(milliseconds=10)
    assert retry_after(RULE, nth_latest_failure=almost_gone, now=NOW) == 1


def test_failures_older_than_the_window_do_not_count() -> None:
    assert retry_after(RULE, nth_latest_failure=NOW - RULE.window, now=NOW) is None


SLOWDOWN = SlowdownRule(after=10, max_delay=timedelta(seconds=60), window=timedelta(minutes=15))


def test_below_the_account_threshold_nothing_slows_down() -> None:
    assert slowdown_wait(SLOWDOWN, failures=9, latest_failure=NOW, now=NOW) is None
    assert slowdown_wait(SLOWDOWN, failures=0, latest_failure=None, now=NOW) is None


def test_the_account_delay_doubles_with_each_failure_up_to_a_minute() -> None:
    waits = [
        slowdown_wait(SLOWDOWN, failures=n, latest_failure=NOW, now=NOW) for n in range(10, 20)
    ]
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60, 60, 60]
    huge = slowdown_wait(SLOWDOWN, failures=10**9, latest_failure=NOW, now=NOW)
    assert huge == 60


def test_the_account_delay_counts_from_the_latest_failure() -> None:
    latest = NOW - timedelta(seconds=50)
    assert slowdown_wait(SLOWDOWN, failures=30, latest_failure=latest, now=NOW) == 10
    assert (
        slowdown_wait(SLOWDOWN, failures=30, latest_failure=NOW - timedelta(minutes=1), now=NOW)
        is None
    )


def test_a_new_refresh_token_never_outlives_its_family() -> None:
    started = NOW - timedelta(days=29)
    expiry = refresh_expiry(
        now=NOW,
        idle=timedelta(days=30),
        family_started_at=started,
        family_max_age=timedelta(days=30),
    )
    assert expiry == started + timedelta(days=30)
    fresh = refresh_expiry(
        now=NOW, idle=timedelta(days=1), family_started_at=NOW, family_max_age=timedelta(days=30)
    )
    assert fresh == NOW + timedelta(days=1)
