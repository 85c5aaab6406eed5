"""The client address: X-Forwarded-For only from the trusted gateway, its last entry."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from pydantic import ValidationError

from edvent_platform.client_address import client_address_of
from edvent_platform.settings import ServiceSettings

GATEWAY = [ip_network("10.0.0.0/24")]


def test_a_forwarded_for_from_an_untrusted_peer_changes_nothing() -> None:
    assert client_address_of(peer="10.9.9.9", forwarded_for=["1.2.3.4"], trusted=GATEWAY) == (
        "10.9.9.9"
    )
    assert client_address_of(peer="10.0.0.5", forwarded_for=["1.2.3.4"], trusted=[]) == "10.0.0.5"


def test_from_the_gateway_the_address_it_saw_counts() -> None:
    # The client claimed 6.6.6.6; the gateway appended the address it really saw.
    assert (
        client_address_of(peer="10.0.0.2", forwarded_for=["6.6.6.6, 203.0.113.9"], trusted=GATEWAY)
        == "203.0.113.9"
    )


def test_two_clients_behind_the_gateway_are_two_addresses() -> None:
    first = client_address_of(peer="10.0.0.2", forwarded_for=["203.0.113.1"], trusted=GATEWAY)
    second = client_address_of(peer="10.0.0.2", forwarded_for=["203.0.113.2"], trusted=GATEWAY)
    assert first != second


def test_without_a_usable_forwarded_for_the_peer_counts() -> None:
    assert client_address_of(peer="10.0.0.2", forwarded_for=[], trusted=GATEWAY) == "10.0.0.2"
    assert (
        client_address_of(peer="10.0.0.2", forwarded_for=["not-an-ip"], trusted=GATEWAY)
        == "10.0.0.2"
    )
    assert client_address_of(peer=None, forwarded_for=["1.2.3.4"], trusted=GATEWAY) == "unknown"


def test_trusted_proxies_come_from_a_comma_separated_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Settings(ServiceSettings):
        model_config = {"env_prefix": "DEMO_"}

    assert Settings().trusted_proxies == ()
    monkeypatch.setenv("DEMO_TRUSTED_PROXIES", "10.0.0.0/8, ::1/128")
    assert Settings().trusted_proxies == (ip_network("10.0.0.0/8"), ip_network("::1/128"))
    monkeypatch.setenv("DEMO_TRUSTED_PROXIES", "not a range")
    with pytest.raises(ValidationError):
        Settings()
