"""`edvent-stack up|down|install`: the whole platform on one machine, without Docker.

`up` starts PostgreSQL, Kafka, the S3 server, the four services (migrations first)
and nginx, waits until each is healthy, prints where everything runs, and stays in
the foreground; Ctrl-C (or `edvent-stack down` from another shell) stops it all.
Data lives under EDVENT_DATA_DIR (default .local/) and is reused by the next `up`.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from edvent_localstack.gateway import Gateway
from edvent_localstack.postgres import PostgresServer, service_database
from edvent_localstack.process import (
    REPO_ROOT,
    ManagedProcess,
    StackError,
    ensure_port_free,
    log_tail,
    stop_process_group,
)
from edvent_localstack.services import SERVICES, Service


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise StackError(f"{name} must be a number, not {raw!r}") from None


@dataclass(frozen=True)
class StackConfig:
    data_dir: Path
    gateway_port: int
    postgres_port: int
    kafka_port: int
    kafka_controller_port: int
    kafka_partitions: int
    s3_port: int
    s3_bucket: str
    service_ports: dict[str, int]

    @classmethod
    def from_env(cls) -> StackConfig:
        return cls(
            data_dir=Path(os.environ.get("EDVENT_DATA_DIR", REPO_ROOT / ".local")).resolve(),
            gateway_port=_int_env("GATEWAY_PORT", 8080),
            postgres_port=_int_env("POSTGRES_PORT", 5432),
            kafka_port=_int_env("KAFKA_PORT", 9092),
            kafka_controller_port=_int_env("KAFKA_CONTROLLER_PORT", 9093),
            kafka_partitions=_int_env("KAFKA_PARTITIONS", 3),
            s3_port=_int_env("S3_PORT", 9000),
            s3_bucket=os.environ.get("S3_BUCKET", "edvent-lessons"),
            service_ports={
                s.name: _int_env(f"{s.env_prefix}PORT", s.default_port) for s in SERVICES.values()
            },
        )

    @property
    def state_file(self) -> Path:
        return self.data_dir / "run" / "stack.json"

    def all_ports(self) -> dict[str, int]:
        return {
            "GATEWAY_PORT": self.gateway_port,
            "POSTGRES_PORT": self.postgres_port,
            "KAFKA_PORT": self.kafka_port,
            "KAFKA_CONTROLLER_PORT": self.kafka_controller_port,
            "S3_PORT": self.s3_port,
            **{f"{SERVICES[s].env_prefix}PORT": p for s, p in self.service_ports.items()},
        }


def load_secrets(data_dir: Path) -> dict[str, str]:
    """Passwords generated on the first run and kept (0600) for the next ones."""
    path = data_dir / "secrets.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    values = {"postgres": secrets.token_urlsafe(18)}
    values.update({name: secrets.token_urlsafe(18) for name in SERVICES})
    data_dir.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(values, indent=2))
    return values


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.started: list[Any] = []  # things with .stop(), in start order
        self.services: dict[str, ManagedProcess] = {}
        self.gateway: Gateway | None = None

    # -- start -------------------------------------------------------------------------

    def up(self) -> None:
        cfg = self.config
        self._check_ports()
        from edvent_localstack.kafka import KafkaBroker
        from edvent_localstack.s3 import S3Server, ensure_bucket

        secrets_ = load_secrets(cfg.data_dir)
        logs = cfg.data_dir / "logs"
        self._step("PostgreSQL 18 + pgvector")
        postgres = PostgresServer(
            data_dir=cfg.data_dir / "postgres",
            port=cfg.postgres_port,
            log_file=logs / "postgres.log",
            superuser_password=secrets_["postgres"],
        )
        postgres.start()
        self.started.append(postgres)
        database_urls = {}
        for svc in SERVICES:
            database = service_database(svc, secrets_[svc])
            postgres.provision(database)
            database_urls[svc] = postgres.service_url(database)

        self._step("Kafka (KRaft, single node)")
        kafka = KafkaBroker(
            data_dir=cfg.data_dir / "kafka",
            port=cfg.kafka_port,
            controller_port=cfg.kafka_controller_port,
            log_file=logs / "kafka.log",
            default_partitions=cfg.kafka_partitions,
        )
        kafka.start()
        self.started.append(kafka)

        self._step("S3 server")
        s3 = S3Server(data_dir=cfg.data_dir / "s3", port=cfg.s3_port, log_file=logs / "s3.log")
        s3.start()
        self.started.append(s3)
        ensure_bucket(
            endpoint_url=s3.endpoint_url,
            access_key=s3.access_key,
            secret_key=s3.secret_key,
            region=s3.region,
            bucket=cfg.s3_bucket,
        )

        identity_url = f"http://127.0.0.1:{cfg.service_ports['identity']}"
        for service in SERVICES.values():
            prefix, port = service.env_prefix, cfg.service_ports[service.name]
            env = dict(os.environ)
            env.update(
                {
                    f"{prefix}ENVIRONMENT": "development",
                    f"{prefix}DATABASE_URL": database_urls[service.name],
                    f"{prefix}KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                    f"{prefix}JWKS_URL": f"{identity_url}/api/v1/auth/jwks",
                    f"{prefix}S3_ENDPOINT_URL": s3.endpoint_url,
                    f"{prefix}S3_ACCESS_KEY": s3.access_key,
                    f"{prefix}S3_SECRET_KEY": s3.secret_key,
                    f"{prefix}S3_REGION": s3.region,
                    f"{prefix}S3_BUCKET": cfg.s3_bucket,
                    # Behind our own gateway: trust its X-Forwarded-For for client addresses.
                    f"{prefix}TRUST_PROXY_HEADERS": "true",
                }
            )
            self._step(f"{service.name}: migrations")
            service.migrate(database_urls[service.name], env)
            if service.name == "identity":
                self._bootstrap_admin(service, database_urls[service.name], env)
            self._step(f"{service.name}: starting on port {port}")
            process = ManagedProcess(
                service.name,
                [service.command(), "serve", "--port", str(port)],
                logs / f"{service.name}.log",
                env=env,
            )
            process.start()
            self.started.append(process)
            self.services[service.name] = process
        for svc, process in self.services.items():
            url = f"http://127.0.0.1:{cfg.service_ports[svc]}/readyz"
            process.wait_ready(functools.partial(_answers_200, url), timeout=90)

        self._step("gateway (nginx)")
        self.gateway = Gateway(
            run_dir=cfg.data_dir / "gateway",
            port=cfg.gateway_port,
            upstreams={
                s.upstream_variable: f"127.0.0.1:{cfg.service_ports[s.name]}"
                for s in SERVICES.values()
            },
            login_rate=os.environ.get("GATEWAY_LOGIN_RATE", "30r/m"),
            login_burst=_int_env("GATEWAY_LOGIN_BURST", 20),
            register_rate=os.environ.get("GATEWAY_REGISTER_RATE", "10r/m"),
            register_burst=_int_env("GATEWAY_REGISTER_BURST", 10),
        )
        self.gateway.start()
        self.started.append(self.gateway)
        self._write_state()
        self._summary(postgres, kafka.bootstrap_servers, s3.endpoint_url)

    def _bootstrap_admin(self, identity: Service, database_url: str, env: dict[str, str]) -> None:
        if not (
            env.get("IDENTITY_BOOTSTRAP_ADMIN_EMAIL")
            and env.get("IDENTITY_BOOTSTRAP_ADMIN_PASSWORD")
        ):
            return
        self._step("identity: bootstrap admin")
        result = identity.run("create-admin", database_url=database_url, env=env)
        if result.returncode != 0:
            raise StackError(f"creating the bootstrap admin failed:\n{result.stderr}")

    def _check_ports(self) -> None:
        for name, port in self.config.all_ports().items():
            ensure_port_free(port, f"{name}={port}")

    def _write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "children": [pid for pid in self._processes() if pid is not None],
        }
        self.config.state_file.parent.mkdir(parents=True, exist_ok=True)
        self.config.state_file.write_text(json.dumps(state))

    def _processes(self) -> list[int | None]:
        return [getattr(part, "pid", None) for part in self.started]

    def _step(self, text: str) -> None:
        print(f"  … {text}", flush=True)

    def _summary(self, postgres: PostgresServer, kafka: str, s3: str) -> None:
        cfg = self.config
        assert self.gateway is not None
        print("\nEdvent is running:", flush=True)
        print(f"  PostgreSQL  127.0.0.1:{cfg.postgres_port}  (database edvent)")
        print(f"  Kafka       {kafka}")
        print(f"  S3          {s3}  (bucket {cfg.s3_bucket})")
        for svc in SERVICES:
            print(f"  {svc:<11} http://127.0.0.1:{cfg.service_ports[svc]}")
        print(f"  logs        {cfg.data_dir / 'logs'}")
        print(f"  events      uv run edvent-events --bootstrap-servers {kafka} tail identity.users")
        print(
            f"\nGateway: {self.gateway.url}\n(Ctrl-C or `make down` stops everything)", flush=True
        )

    # -- stop --------------------------------------------------------------------------

    def down(self) -> None:
        for part in reversed(self.started):
            try:
                part.stop()
            except Exception as exc:  # noqa: BLE001 - stop the rest regardless
                print(f"stopping {part!r} failed: {exc}", file=sys.stderr)
        self.started.clear()
        self.config.state_file.unlink(missing_ok=True)


def _answers_200(url: str) -> bool:
    return httpx.get(url, timeout=2).status_code == 200


def up() -> int:
    config = StackConfig.from_env()
    stack = Stack(config)

    def request_stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    # Explicitly, for SIGINT too: a shell starting us in the background ignores it,
    # and Python would then never raise KeyboardInterrupt.
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        stack.up()
        while True:
            for svc, process in stack.services.items():
                if not process.running():
                    print(f"{svc} exited; last lines of its log:\n{log_tail(process.log_file)}")
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    except StackError as exc:
        print(f"\nedvent-stack: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.down()
        print("stopped.", flush=True)


def down() -> int:
    config = StackConfig.from_env()
    if not config.state_file.exists():
        print("edvent-stack: nothing is running (no state file)")
        return 0
    state = json.loads(config.state_file.read_text())
    with contextlib.suppress(ProcessLookupError):
        os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _alive(state["pid"]):
        time.sleep(0.2)
    # Whatever the `up` process could not stop (it may have been killed) goes now.
    for pid in state.get("children", []):
        if pid and _alive(pid):
            stop_process_group(pid)
    config.state_file.unlink(missing_ok=True)
    print("edvent-stack: stopped")
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def install() -> int:
    """Fetch the Kafka and S3Proxy jars with Maven (once; cached under .cache/)."""
    from edvent_localstack.kafka import ensure_kafka_jars
    from edvent_localstack.s3 import ensure_s3proxy_jars

    try:
        ensure_kafka_jars()
        ensure_s3proxy_jars()
    except StackError as exc:
        print(f"edvent-stack: {exc}", file=sys.stderr)
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="edvent-stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["up", "down", "install"])
    args = parser.parse_args()
    sys.exit({"up": up, "down": down, "install": install}[args.command]())
