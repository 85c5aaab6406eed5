"""What the benchmarks start: PostgreSQL, Kafka and S3 on free ports in a temporary
directory, and services migrated and run as their real commands (the whole platform:
`edvent_localstack.launch`). Everything started stops when its `with` block ends."""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from edvent_localstack.kafka import KafkaBroker
from edvent_localstack.postgres import PostgresServer, service_database
from edvent_localstack.process import ManagedProcess, free_port
from edvent_localstack.s3 import S3Server, ensure_bucket
from edvent_localstack.services import SERVICES

BUCKET = "edvent-lessons"
PASSWORD = "benchmark password 123"  # noqa: S105 - a throwaway local stack
ADMIN_EMAIL = "bench-admin@example.com"


@dataclass(frozen=True)
class Infra:
    work: Path
    postgres: PostgresServer
    kafka: KafkaBroker | None
    s3: S3Server | None


@contextlib.contextmanager
def infrastructure(
    work: Path, *, kafka: bool = True, s3: bool = False, partitions: int = 1
) -> Iterator[Infra]:
    """PostgreSQL, and Kafka and S3 (with the lessons bucket) when asked for."""
    postgres = PostgresServer(data_dir=work / "pg", port=free_port(), log_file=work / "pg.log")
    broker = store = None
    if kafka:
        broker = KafkaBroker(
            data_dir=work / "kafka", port=free_port(), controller_port=free_port(),
            log_file=work / "kafka.log", default_partitions=partitions,
        )  # fmt: skip
    if s3:
        store = S3Server(data_dir=work / "s3", port=free_port(), log_file=work / "s3.log")
    with contextlib.ExitStack() as started:
        for part in (postgres, broker, store):
            if part is not None:
                part.start()
                started.callback(part.stop)
        if store is not None:
            ensure_bucket(
                endpoint_url=store.endpoint_url, access_key=store.access_key,
                secret_key=store.secret_key, region=store.region, bucket=BUCKET,
            )  # fmt: skip
        yield Infra(work=work, postgres=postgres, kafka=broker, s3=store)


def migrated_database(postgres: PostgresServer, name: str) -> str:
    """The service's role and schema, migrated by `edvent-<name> migrate`; its URL."""
    database = service_database(name)
    postgres.provision(database)
    SERVICES[name].migrate(postgres.migrator_url(database), dict(os.environ))
    return postgres.service_url(database)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def services(infra: Infra, names: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """`edvent-<name> serve` for each name (identity first, with ADMIN_EMAIL as admin),
    one uvicorn worker each; their base URLs by name once all answer /readyz."""
    ports = {name: free_port() for name in names}
    identity_url = f"http://127.0.0.1:{ports.get('identity', 0)}"
    with contextlib.ExitStack() as started:
        for name in names:
            service = SERVICES[name]
            url = migrated_database(infra.postgres, name)
            prefix = service.env_prefix
            env = dict(os.environ)
            env.update({
                f"{prefix}DATABASE_URL": url,
                f"{prefix}LOG_LEVEL": "WARNING",
                f"{prefix}JWKS_URL": f"{identity_url}/api/v1/auth/jwks",
                "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
                # Cheaper hashing and no per-client limits: the benchmarks register
                # their users from one address, and Argon2 is not what they measure.
                "IDENTITY_ARGON2_TIME_COST": "2",
                "IDENTITY_ARGON2_MEMORY_KIB": "19456",
                "IDENTITY_LOGIN_MAX_FAILURES_PER_CLIENT": "1000",
                "IDENTITY_REGISTER_MAX_PER_CLIENT": "1000",
                "IDENTITY_ACCESS_TOKEN_TTL_SECONDS": "3600",
            })  # fmt: skip
            if infra.kafka is not None:
                env.update(infra.kafka.service_env(name, prefix))
            if infra.s3 is not None:
                env.update({
                    f"{prefix}S3_ENDPOINT_URL": infra.s3.endpoint_url,
                    f"{prefix}S3_ACCESS_KEY": infra.s3.access_key,
                    f"{prefix}S3_SECRET_KEY": infra.s3.secret_key,
                    f"{prefix}S3_BUCKET": BUCKET,
                })  # fmt: skip
            if name == "identity":
                result = service.run(
                    "create-admin", "--email", ADMIN_EMAIL, database_url=url, env=env
                )
                assert result.returncode == 0, result.stderr
            process = ManagedProcess(
                name, [service.command(), "serve", "--port", str(ports[name])],
                infra.work / f"{name}.log", env=env,
            )  # fmt: skip
            process.start()
            started.callback(process.stop)
            process.wait_ready(
                functools.partial(_ready, f"http://127.0.0.1:{ports[name]}/readyz"), timeout=90
            )
        yield {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}


async def _login(http: httpx.AsyncClient, email: str) -> tuple[str, str]:
    login = await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    login.raise_for_status()
    token = str(login.json()["access_token"])
    me = await http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    return token, str(me.json()["id"])


async def account(identity: str, *, role: str | None) -> tuple[str, str]:
    """A new user's (access token, id); `role` set by the bootstrap admin when given."""
    async with httpx.AsyncClient(base_url=identity, timeout=60) as http:
        email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        user = await http.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "B"}
        )
        user.raise_for_status()
        if role is not None:
            admin, _ = await _login(http, ADMIN_EMAIL)
            changed = await http.patch(
                f"/api/v1/users/{user.json()['id']}",
                json={"role": role},
                headers={"Authorization": f"Bearer {admin}"},
            )
            changed.raise_for_status()
        return await _login(http, email)
