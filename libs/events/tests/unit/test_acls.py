"""Who may do what on the broker: the table the stack and the charts apply."""

from __future__ import annotations

from edvent_events import acls
from edvent_events.catalog import CATALOG
from edvent_events.topics import ALL_TOPICS, dlq_topic


def _allowed(principal: str, operation: int) -> set[str]:
    return {
        a.resource_name
        for a in acls.platform_acls()
        if a.principal == f"User:{principal}"
        and a.operation == operation
        and a.resource_type == acls.TOPIC
    }


def test_each_event_types_topic_is_written_only_by_its_owner() -> None:
    for event_type in CATALOG:
        owner = event_type.source.removeprefix("/services/")
        writers = {s for s in acls.SERVICES if event_type.topic in _allowed(s, acls.WRITE)}
        assert writers == {owner}, (event_type.__name__, writers)


def test_a_service_writes_only_its_topics_and_its_own_dead_letters() -> None:
    for service in acls.SERVICES:
        own_dlqs = {dlq_topic(t, service) for t in acls.CONSUMES[service]}
        assert _allowed(service, acls.WRITE) == set(acls.OWNS[service]) | own_dlqs


def test_data_team_reads_every_domain_topic_and_writes_nothing() -> None:
    assert _allowed(acls.DATA_TEAM, acls.READ) == set(ALL_TOPICS) | {acls.IDENTITY_USER_KEYS}
    assert not _allowed(acls.DATA_TEAM, acls.WRITE)
    assert not _allowed(acls.DATA_TEAM, acls.CREATE)
    groups = [a for a in acls.data_team_acls() if a.resource_type == acls.GROUP]
    assert {(a.resource_name, a.pattern_type) for a in groups} == {("data-team.", acls.PREFIXED)}


def test_the_salted_password_is_rfc_5802s_hi() -> None:
    # Hi() with one iteration is HMAC(password, salt + INT(1)).
    import hashlib
    import hmac

    expected = hmac.new(b"pencil", b"salt" + b"\x00\x00\x00\x01", hashlib.sha512).digest()
    assert acls.salted_password("pencil", b"salt", 1) == expected
