"""The whole platform, started the way `make dev` starts it, for black-box tests.

One `edvent-stack up` per test session, on free ports and a temporary data dir;
tests talk only to the gateway, as a client that knows only CONTRACT.md would.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from edvent_events.acls import DATA_TEAM
from edvent_events.connection import KafkaConnection
from edvent_localstack.cli import DATA_TEAM_PASSWORD
from edvent_localstack.launch import platform_up

ADMIN_EMAIL = "admin@edvent.test"
ADMIN_PASSWORD = "bootstrap-admin-password"


@dataclass(frozen=True)
class Platform:
    gateway: str
    service_ports: dict[str, int]
    kafka: KafkaConnection  # as the read-only data-team principal, like a data team
    data_dir: Path
    pid: int
    # Mailpit's UI and HTTP API (the mail identity sends).
    mailpit: str = ""
    # Jaeger's UI and query API (the spans every service exports).
    jaeger: str = ""
    # Ralph, the LRS learning-records posts xAPI statements to (Basic auth: `lrs_auth`).
    lrs: str = ""

    @property
    def lrs_auth(self) -> tuple[str, str]:
        secrets = json.loads((self.data_dir / "secrets.json").read_text())
        return ("edvent", secrets["lrs"])

    def kafka_as(self, principal: str) -> KafkaConnection:
        """A service's own Kafka principal (`content`, ...), with the password the stack
        generated into its data dir: for tests that write as that service."""
        secrets = json.loads((self.data_dir / "secrets.json").read_text())
        return KafkaConnection(
            self.kafka.bootstrap_servers,
            security_protocol=self.kafka.security_protocol,
            sasl_mechanism=self.kafka.sasl_mechanism,
            username=principal,
            password=secrets[f"kafka-{principal}"],
        )


@pytest.fixture(scope="session")
def platform() -> Iterator[Platform]:
    data_dir = Path(tempfile.mkdtemp(prefix="edvent-e2e-"))
    env = {
        "IDENTITY_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
        "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "GATEWAY_LOGIN_RATE": "120r/m",
        "GATEWAY_LOGIN_BURST": "60",
        "GATEWAY_REGISTER_RATE": "600r/m",
        "GATEWAY_REGISTER_BURST": "200",
        # Every test user comes from 127.0.0.1: the drills register 50 students at once.
        "IDENTITY_REGISTER_MAX_PER_CLIENT": "1000",
        # The same for password-reset requests: the access matrix alone asks for a few
        # dozen (identity's integration tests cover the per-client 429).
        "IDENTITY_PASSWORD_RESET_MAX_PER_CLIENT": "1000",
        # The tests play a proxy in front of the gateway, so a test can come from two
        # client addresses (X-Forwarded-For); without the header, 127.0.0.1 as before.
        "GATEWAY_TRUSTED_PROXIES": "127.0.0.1/32",
    }
    # Ralph (the LRS) and learning-records start too; a busy machine needs the margin.
    with platform_up(data_dir, env, timeout=420) as (pid, ports):
        yield Platform(
            gateway=f"http://127.0.0.1:{ports['GATEWAY_PORT']}",
            service_ports={
                svc: ports[f"{svc.upper().replace('-', '_')}_PORT"]
                for svc in ("identity", "content", "assessment", "ai-notes", "learning-records")
            },
            kafka=KafkaConnection(
                f"127.0.0.1:{ports['KAFKA_PORT']}",
                security_protocol="SASL_PLAINTEXT",
                sasl_mechanism="SCRAM-SHA-512",
                username=DATA_TEAM,
                password=os.environ.get("EDVENT_DATA_TEAM_PASSWORD") or DATA_TEAM_PASSWORD,
            ),
            data_dir=data_dir,
            pid=pid,
            mailpit=f"http://127.0.0.1:{ports['MAILPIT_HTTP_PORT']}",
            jaeger=f"http://127.0.0.1:{ports['JAEGER_UI_PORT']}",
            lrs=f"http://127.0.0.1:{ports['LRS_PORT']}",
        )


@pytest.fixture
async def gateway(platform: Platform) -> Iterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as client:
        yield client


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The OpenAPI fuzz tests last: fuzzing login fills the per-address login throttle
    that every other test's sign-in counts against."""
    items.sort(key=lambda item: item.path.name == "test_openapi_fuzz.py")
