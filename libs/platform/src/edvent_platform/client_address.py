"""The address of the client a request comes from, for per-client throttles.

Only the gateway in front of a service may name the client: its X-Forwarded-For is
believed when the TCP peer lies in the service's trusted ranges
(`<PREFIX>TRUSTED_PROXIES`), and then only its rightmost entry, the address the
gateway itself saw (after its own `real_ip` step behind an ingress). Entries further
left are whatever someone claimed. From any other peer the header is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Annotated

from fastapi import Depends, Request

Network = IPv4Network | IPv6Network


def client_address_of(
    *, peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str:
    if peer is None:
        return "unknown"
    try:
        peer_ip = ip_address(peer)
    except ValueError:  # a test transport or a Unix socket: nothing to compare
        return peer
    if not any(peer_ip in network for network in trusted):
        return peer
    entries = [e.strip() for value in forwarded_for for e in value.split(",") if e.strip()]
    if not entries:
        return peer
    try:
        return str(ip_address(entries[-1]))
    except ValueError:  # the gateway always writes an address; anything else is not one
        return peer


async def client_address(request: Request) -> str:
    trusted: Sequence[Network] = request.app.state.runtime.settings.trusted_proxies
    return client_address_of(
        peer=request.client.host if request.client else None,
        forwarded_for=request.headers.getlist("x-forwarded-for"),
        trusted=trusted,
    )


# `async` above: FastAPI would run a plain `def` on a worker thread.
ClientAddress = Annotated[str, Depends(client_address)]
