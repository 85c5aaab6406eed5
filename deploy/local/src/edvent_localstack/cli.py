"""`edvent-stack`: the whole platform on one machine, without Docker.

`up` starts PostgreSQL, Kafka, the S3 server, Mailpit, Ralph (the LRS), the services
(migrations first) and nginx, waits until each is healthy, prints where everything
runs, and stays in the foreground supervising them: a part that exits is restarted with backoff, one
that keeps crashing is left stopped as failed. Ctrl-C (or `edvent-stack down` from
another shell) stops it all. `status` lists the parts; `restart|stop|start PART`
acts on one. Data lives under EDVENT_DATA_DIR (default .local/), reused by the next `up`.

EDVENT_REPLICAS=N runs N processes of each service (parts `identity`, `identity-2`, …;
replica k listens on `<PREFIX>PORT_k`, by default the first one's port + 100 (k - 1)),
all behind the gateway's upstream for that service.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edvent_events.acls import DATA_TEAM
from edvent_localstack.gateway import Gateway, default_web_root
from edvent_localstack.parts import ServerPart, ServicePart, http_ok, port_open
from edvent_localstack.postgres import PostgresServer, service_database
from edvent_localstack.process import (
    REPO_ROOT,
    StackError,
    ensure_port_free,
    log_tail,
    stop_process_group,
)
from edvent_localstack.services import SERVICES, Service
from edvent_localstack.supervisor import ControlServer, Supervisor, request

if TYPE_CHECKING:
    from edvent_localstack.kafka import KafkaBroker
    from edvent_localstack.ralph import RalphServer
    from edvent_localstack.s3 import S3Server

PARTS = ["postgres", "kafka", "s3", "mailpit", "jaeger", "lrs", *SERVICES, "gateway"]


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
    mailpit_smtp_port: int = 1025
    mailpit_http_port: int = 8025
    # Processes per service (EDVENT_REPLICAS), and the ports of the second one on.
    replicas: int = 1
    replica_ports: dict[str, list[int]] = field(default_factory=dict)
    # Jaeger, the trace viewer, unless EDVENT_TRACING=off.
    tracing: bool = True
    jaeger_otlp_port: int = 4318
    jaeger_ui_port: int = 16686
    jaeger_grpc_port: int = 16685
    lrs_port: int = 8100

    @classmethod
    def from_env(cls) -> StackConfig:
        replicas = _int_env("EDVENT_REPLICAS", 1)
        if replicas < 1:
            raise StackError(f"EDVENT_REPLICAS must be 1 or more, not {replicas}")
        service_ports = {
            s.name: _int_env(f"{s.env_prefix}PORT", s.default_port) for s in SERVICES.values()
        }
        return cls(
            data_dir=Path(os.environ.get("EDVENT_DATA_DIR", REPO_ROOT / ".local")).resolve(),
            gateway_port=_int_env("GATEWAY_PORT", 8080),
            postgres_port=_int_env("POSTGRES_PORT", 5432),
            kafka_port=_int_env("KAFKA_PORT", 9092),
            kafka_controller_port=_int_env("KAFKA_CONTROLLER_PORT", 9093),
            kafka_partitions=_int_env("KAFKA_PARTITIONS", 3),
            s3_port=_int_env("S3_PORT", 9000),
            s3_bucket=os.environ.get("S3_BUCKET", "edvent-lessons"),
            service_ports=service_ports,
            mailpit_smtp_port=_int_env("MAILPIT_SMTP_PORT", 1025),
            mailpit_http_port=_int_env("MAILPIT_HTTP_PORT", 8025),
            replicas=replicas,
            replica_ports={
                s.name: [
                    _int_env(replica_port_variable(s, k), service_ports[s.name] + 100 * (k - 1))
                    for k in range(2, replicas + 1)
                ]
                for s in SERVICES.values()
            },
            tracing=os.environ.get("EDVENT_TRACING", "on").strip().lower()
            not in ("off", "0", "false", "no"),
            jaeger_otlp_port=_int_env("JAEGER_OTLP_PORT", 4318),
            jaeger_ui_port=_int_env("JAEGER_UI_PORT", 16686),
            jaeger_grpc_port=_int_env("JAEGER_GRPC_PORT", 16685),
            lrs_port=_int_env("LRS_PORT", 8100),
        )

    def instances(self, service: str) -> list[tuple[str, int]]:
        """(part name, port) of each process of a service: `identity`, `identity-2`, …"""
        ports = [self.service_ports[service], *self.replica_ports.get(service, [])]
        return [(replica_name(service, k), port) for k, port in enumerate(ports, start=1)]

    @property
    def state_file(self) -> Path:
        return self.data_dir / "run" / "stack.json"

    @property
    def control_socket(self) -> Path:
        return self.data_dir / "run" / "control.sock"

    def all_ports(self) -> dict[str, int]:
        return {
            "GATEWAY_PORT": self.gateway_port,
            "POSTGRES_PORT": self.postgres_port,
            "KAFKA_PORT": self.kafka_port,
            "KAFKA_CONTROLLER_PORT": self.kafka_controller_port,
            "S3_PORT": self.s3_port,
            "MAILPIT_SMTP_PORT": self.mailpit_smtp_port,
            "MAILPIT_HTTP_PORT": self.mailpit_http_port,
            **(
                {
                    "JAEGER_OTLP_PORT": self.jaeger_otlp_port,
                    "JAEGER_UI_PORT": self.jaeger_ui_port,
                    "JAEGER_GRPC_PORT": self.jaeger_grpc_port,
                }
                if self.tracing
                else {}
            ),
            "LRS_PORT": self.lrs_port,
            **{f"{SERVICES[s].env_prefix}PORT": p for s, p in self.service_ports.items()},
            **{
                replica_port_variable(SERVICES[s], k): port
                for s, ports in self.replica_ports.items()
                for k, port in enumerate(ports, start=2)
            },
        }


def replica_name(service: str, k: int) -> str:
    """The part name of a service's k-th process: the first keeps the service's name."""
    return service if k == 1 else f"{service}-{k}"


def replica_port_variable(service: Service, k: int) -> str:
    return f"{service.env_prefix}PORT_{k}"


DATA_TEAM_PASSWORD = "data-team-password"  # noqa: S105 - CONTRACT.md's documented default


def secret_names() -> list[str]:
    """`postgres`; per service its runtime role (`identity`), its migrator
    (`identity-migrator`) and its Kafka principal (`kafka-identity`); `kafka-admin`;
    `lrs`, the Basic-auth password learning-records posts to Ralph with."""
    names = ["postgres", "kafka-admin", "lrs"]
    for name in SERVICES:
        names += [name, f"{name}-migrator", f"kafka-{name}"]
    return names


def load_secrets(data_dir: Path) -> dict[str, str]:
    """Passwords generated on the first run and kept (0600) for the next ones; a
    password this version needs and an older .local lacks is added."""
    path = data_dir / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in secret_names() if name not in stored]
    if missing:
        stored.update({name: secrets.token_urlsafe(18) for name in missing})
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        tmp = path.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(json.dumps(stored, indent=2))
        tmp.replace(path)
    return stored


@dataclass
class Layout:
    """What `up` starts, in this order: infrastructure one by one, then the services
    (each prepared, e.g. migrated, then launched; all launched before any is waited
    for), then the gateway."""

    infra: list[ServerPart]
    services: list[ServicePart]
    gateway: ServerPart
    prepare: Callable[[ServicePart], None] = lambda _part: None
    labels: dict[str, str] = field(default_factory=dict)  # for the progress lines

    def part(self, name: str) -> ServerPart | ServicePart:
        parts: list[ServerPart | ServicePart] = [*self.infra, *self.services, self.gateway]
        return next(part for part in parts if part.name == name)


def start_parts(supervisor: Supervisor, layout: Layout, *, step: Callable[[str], None]) -> None:
    """Start every part until ready; StackError with the log tail of the first that
    does not come up (nothing is retried here: `up` stops and says why)."""
    for part in layout.infra:
        step(layout.labels.get(part.name, part.name))
        _start(part, part.start)
        supervisor.launched(part.name)
    for service in layout.services:
        layout.prepare(service)
        step(f"{service.name}: starting on port {service.port}")
        service.launch()
    for service in layout.services:
        _start(service, service.wait_ready)
        supervisor.launched(service.name)
    step(layout.labels.get(layout.gateway.name, layout.gateway.name))
    _start(layout.gateway, layout.gateway.start)
    supervisor.launched(layout.gateway.name)


def _start(part: ServerPart | ServicePart, start: Callable[[], None]) -> None:
    try:
        start()
    except StackError as exc:
        message = str(exc)
        # Process launchers already add the tail; the others (initdb, Kafka's own
        # checks) do not.
        if "last lines of" not in message:
            message += _tail(part)
        raise StackError(f"{part.name} did not come up: {message}") from exc


def _tail(part: ServerPart | ServicePart) -> str:
    if part.log_file is None:
        return ""
    return f"; last lines of {part.log_file}:\n{log_tail(part.log_file)}"


def status_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Every part, its address and whether its probe answered."""
    width = max(len(str(row["part"])) for row in rows)
    lines = [f"{'PART':<{width}}  {'ADDRESS':<32} HEALTH"]
    lines += [
        f"{row['part']:<{width}}  {row['address']:<32} "
        + ("healthy" if row.get("health") == "ok" else "NOT HEALTHY")
        for row in rows
    ]
    return "\n".join(lines)


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.lrs: RalphServer | None = None
        self.supervisor: Supervisor | None = None
        self.control: ControlServer | None = None
        self._state_lock = threading.Lock()

    # -- start -------------------------------------------------------------------------

    def up(self, layout: Layout | None = None) -> None:
        """Start every part in order, print the status table, and raise StackError
        (with the failing part's log tail) when any part does not come up healthy."""
        self._check_ports()
        layout = layout or self.layout()
        supervisor = Supervisor(
            [*layout.infra, *layout.services, layout.gateway],
            log=_log,
            on_change=self._write_state,
        )
        self.supervisor = supervisor
        try:
            start_parts(supervisor, layout, step=self._step)
        except StackError:
            print("\n" + status_table(supervisor.snapshot()), flush=True)
            raise
        self.control = ControlServer(supervisor, self.config.control_socket)
        self.control.start()
        self._write_state()
        rows = supervisor.snapshot()
        print("\n" + status_table(rows), flush=True)
        for row in rows:
            if row["health"] != "ok":
                part = layout.part(row["part"])
                raise StackError(f"{row['part']} is not healthy at {row['address']}" + _tail(part))
        self._summary(layout.gateway.address)

    def layout(self) -> Layout:
        """The real parts: PostgreSQL, Kafka, S3, the four services and nginx."""
        cfg = self.config
        from edvent_localstack.jaeger import JaegerServer
        from edvent_localstack.kafka import KafkaBroker
        from edvent_localstack.mailpit import MailpitServer
        from edvent_localstack.ralph import RalphServer
        from edvent_localstack.s3 import S3Server, ensure_bucket

        secrets_ = load_secrets(cfg.data_dir)
        logs = cfg.data_dir / "logs"
        postgres = PostgresServer(
            data_dir=cfg.data_dir / "postgres",
            port=cfg.postgres_port,
            log_file=logs / "postgres.log",
            superuser_password=secrets_["postgres"],
        )
        databases = {
            svc: service_database(svc, secrets_[svc], secrets_[f"{svc}-migrator"])
            for svc in SERVICES
        }
        database_urls = {svc: postgres.service_url(db) for svc, db in databases.items()}
        migrator_urls = {svc: postgres.migrator_url(db) for svc, db in databases.items()}

        def provision() -> None:
            # On every start: a restarted server gets the same roles and grants.
            for database in databases.values():
                postgres.provision(database)

        kafka = KafkaBroker(
            data_dir=cfg.data_dir / "kafka",
            port=cfg.kafka_port,
            controller_port=cfg.kafka_controller_port,
            log_file=logs / "kafka.log",
            default_partitions=cfg.kafka_partitions,
            admin_password=secrets_["kafka-admin"],
            users={svc: secrets_[f"kafka-{svc}"] for svc in SERVICES}
            | {DATA_TEAM: self.data_team_password},
        )
        s3 = S3Server(data_dir=cfg.data_dir / "s3", port=cfg.s3_port, log_file=logs / "s3.log")
        mailpit = MailpitServer(
            data_dir=cfg.data_dir / "mailpit",
            smtp_port=cfg.mailpit_smtp_port,
            http_port=cfg.mailpit_http_port,
            log_file=logs / "mailpit.log",
        )
        jaeger = (
            JaegerServer(
                run_dir=cfg.data_dir / "jaeger",
                otlp_port=cfg.jaeger_otlp_port,
                ui_port=cfg.jaeger_ui_port,
                grpc_port=cfg.jaeger_grpc_port,
                log_file=logs / "jaeger.log",
            )
            if cfg.tracing
            else None
        )
        lrs = RalphServer(
            data_dir=cfg.data_dir / "lrs",
            port=cfg.lrs_port,
            log_file=logs / "lrs.log",
            password=secrets_["lrs"],
            home_page=f"http://127.0.0.1:{cfg.gateway_port}",
        )
        self.lrs = lrs
        gateway = Gateway(
            run_dir=cfg.data_dir / "gateway",
            port=cfg.gateway_port,
            upstreams={
                s.upstream_variable: [f"127.0.0.1:{port}" for _, port in cfg.instances(s.name)]
                for s in SERVICES.values()
                if s.routed
            },
            # Unset: the defaults Gateway declares.
            login_rate=os.environ.get("GATEWAY_LOGIN_RATE", Gateway.login_rate),
            login_burst=_int_env("GATEWAY_LOGIN_BURST", Gateway.login_burst),
            register_rate=os.environ.get("GATEWAY_REGISTER_RATE", Gateway.register_rate),
            register_burst=_int_env("GATEWAY_REGISTER_BURST", Gateway.register_burst),
            web_root=default_web_root(),
            img_src_extra=os.environ.get("GATEWAY_IMG_SRC_EXTRA", ""),
            # Proxies in front of the gateway whose X-Forwarded-For it believes: none
            # unless set (comma-separated CIDR ranges).
            trusted_proxies=tuple(
                part.strip()
                for part in os.environ.get("GATEWAY_TRUSTED_PROXIES", "").split(",")
                if part.strip()
            ),
        )
        infra = [
            ServerPart(
                "postgres",
                postgres,
                f"127.0.0.1:{cfg.postgres_port}",
                functools.partial(port_open, cfg.postgres_port),
                after_start=provision,
                log_file=postgres.log_file,
            ),
            ServerPart(
                "kafka",
                kafka,
                kafka.bootstrap_servers,
                functools.partial(port_open, cfg.kafka_port),
                log_file=kafka.log_file,
            ),
            ServerPart(
                "s3",
                s3,
                s3.endpoint_url,
                functools.partial(port_open, cfg.s3_port),
                after_start=functools.partial(
                    ensure_bucket,
                    endpoint_url=s3.endpoint_url,
                    access_key=s3.access_key,
                    secret_key=s3.secret_key,
                    region=s3.region,
                    bucket=cfg.s3_bucket,
                ),
                log_file=s3.log_file,
            ),
            ServerPart(
                "mailpit",
                mailpit,
                mailpit.url,
                functools.partial(port_open, cfg.mailpit_smtp_port),
                log_file=mailpit.log_file,
            ),
            ServerPart(
                "lrs",
                lrs,
                lrs.url,
                functools.partial(http_ok, f"{lrs.url}/__heartbeat__"),
                log_file=lrs.log_file,
            ),
        ]
        if jaeger is not None:
            infra.append(
                ServerPart(
                    "jaeger",
                    jaeger,
                    jaeger.url,
                    functools.partial(port_open, cfg.jaeger_otlp_port),
                    log_file=jaeger.log_file,
                )
            )
        # Replicas of a service share its database role, Kafka principal and consumer
        # group: the group splits the partitions among them, the outbox relay and the
        # single-runner jobs take PostgreSQL advisory locks (one at a time).
        services = [
            ServicePart(
                name,
                service.argv("serve", "--port", str(port)),
                port,
                logs / f"{name}.log",
                env=self._service_env(service, database_urls[service.name], kafka, s3, lrs),
            )
            for service in SERVICES.values()
            for name, port in cfg.instances(service.name)
        ]

        def prepare(part: ServicePart) -> None:
            if part.name not in SERVICES:
                return  # a second replica: the first one's migrations are done
            service = SERVICES[part.name]
            self._step(f"{service.name}: migrations")
            # As the schema's owner; the service itself runs with DML only.
            service.migrate(migrator_urls[service.name], part.env)
            if service.name == "identity":
                self._bootstrap_admin(service, database_urls[service.name], part.env)

        gateway_part = ServerPart(
            "gateway",
            gateway,
            gateway.url,
            functools.partial(http_ok, f"{gateway.url}/healthz"),
            log_file=gateway.run_dir / "logs" / "error.log",
        )
        return Layout(
            infra=infra,
            services=services,
            gateway=gateway_part,
            prepare=prepare,
            labels={
                "postgres": "PostgreSQL 18 + pgvector",
                "kafka": "Kafka (KRaft, single node)",
                "s3": "S3 server",
                "mailpit": "mail sink (Mailpit)",
                "jaeger": "trace viewer (Jaeger)",
                "lrs": "learning record store (Ralph)",
                "gateway": "gateway (nginx)",
            },
        )

    def _service_env(
        self,
        service: Service,
        database_url: str,
        kafka: KafkaBroker,
        s3: S3Server,
        lrs: RalphServer,
    ) -> dict[str, str]:
        cfg, prefix = self.config, service.env_prefix
        identity_url = f"http://127.0.0.1:{cfg.service_ports['identity']}"
        env = dict(os.environ)
        env.update(
            {
                f"{prefix}ENVIRONMENT": "development",
                f"{prefix}DATABASE_URL": database_url,
                **kafka.service_env(service.name, prefix),
                f"{prefix}JWKS_URL": f"{identity_url}/api/v1/auth/jwks",
                f"{prefix}S3_ENDPOINT_URL": s3.endpoint_url,
                f"{prefix}S3_ACCESS_KEY": s3.access_key,
                f"{prefix}S3_SECRET_KEY": s3.secret_key,
                f"{prefix}S3_REGION": s3.region,
                f"{prefix}S3_BUCKET": cfg.s3_bucket,
                # Behind our own gateway (on this machine): its X-Forwarded-For names
                # the client; nobody else's does.
                f"{prefix}TRUSTED_PROXIES": "127.0.0.1/32,::1/128",
            }
        )
        if cfg.tracing:
            # Spans go to the local Jaeger (OTLP over HTTP); spans of a finished request
            # show within a second instead of the SDK's default five.
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{cfg.jaeger_otlp_port}"
            env.setdefault("OTEL_BSP_SCHEDULE_DELAY", "1000")
        if service.name == "identity":
            # Mail goes to Mailpit; links in it point at the web client on the gateway.
            env.update(
                {
                    "IDENTITY_SMTP_HOST": "127.0.0.1",
                    "IDENTITY_SMTP_PORT": str(cfg.mailpit_smtp_port),
                    "IDENTITY_SMTP_SECURITY": "none",
                    "IDENTITY_WEB_ORIGIN": f"http://127.0.0.1:{cfg.gateway_port}",
                }
            )
        if service.name == "learning-records":
            env.update(
                {
                    "LEARNING_RECORDS_LRS_URL": lrs.url,
                    "LEARNING_RECORDS_LRS_USERNAME": lrs.username,
                    "LEARNING_RECORDS_LRS_PASSWORD": lrs.password,
                    "LEARNING_RECORDS_PLATFORM_BASE_URL": f"http://127.0.0.1:{cfg.gateway_port}",
                }
            )
        return env

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
        """What `down` needs even when this process was killed: our pid and the parts'."""
        if self.supervisor is None:
            return
        state = {"pid": os.getpid(), "children": self.supervisor.pids()}
        path = self.config.state_file
        with self._state_lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            tmp.replace(path)

    def _step(self, text: str) -> None:
        print(f"  … {text}", flush=True)

    @property
    def data_team_password(self) -> str:
        return os.environ.get("EDVENT_DATA_TEAM_PASSWORD") or DATA_TEAM_PASSWORD

    def _summary(self, gateway: str) -> None:
        cfg = self.config
        print(f"\nlogs: {cfg.data_dir / 'logs'}")
        kafka = f"127.0.0.1:{cfg.kafka_port}"
        print(
            f"events: Kafka at {kafka}, SASL_PLAINTEXT + SCRAM-SHA-512; read-only user "
            f"{DATA_TEAM!r}, password {self.data_team_password!r}, groups data-team.*"
        )
        print(
            f"  KAFKA_USERNAME={DATA_TEAM} KAFKA_PASSWORD=… uv run edvent-events "
            f"--bootstrap-servers {kafka} tail identity.users --from-beginning"
        )
        lrs = self.lrs
        if lrs is not None:
            print(
                f"learning records: Ralph (xAPI LRS) at {lrs.url}/xAPI/statements, Basic auth "
                f'{lrs.username!r}, password in {cfg.data_dir / "secrets.json"} ("lrs")'
            )
        print("parts: uv run edvent-stack status | restart|stop|start PART")
        print(
            f"mail: Mailpit at http://127.0.0.1:{cfg.mailpit_http_port} "
            f"(SMTP 127.0.0.1:{cfg.mailpit_smtp_port}; nothing leaves the machine)"
        )
        if cfg.tracing:
            print(
                f"traces: the trace viewer at http://127.0.0.1:{cfg.jaeger_ui_port} (Jaeger; "
                f"query API under /api; OTLP/HTTP in at 127.0.0.1:{cfg.jaeger_otlp_port}; "
                "in memory; EDVENT_TRACING=off starts without it)"
            )
        print(f"\nGateway: {gateway}\n(Ctrl-C or `make down` stops everything)", flush=True)

    # -- stop --------------------------------------------------------------------------

    def down(self) -> None:
        if self.control is not None:
            self.control.close()
        if self.supervisor is not None:
            self.supervisor.shutdown()
        self.config.state_file.unlink(missing_ok=True)


def _log(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} supervisor: {text}", flush=True)


def up(layout: Callable[[Stack], Layout] | None = None) -> int:
    """`edvent-stack up`: 0 after Ctrl-C; 1 when a part does not come up (its log
    tail on stderr). `layout` replaces the real parts (tests)."""
    config = StackConfig.from_env()
    stack = Stack(config)

    def request_stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    # Explicitly, for SIGINT too: a shell starting us in the background ignores it,
    # and Python would then never raise KeyboardInterrupt.
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        stack.up(layout(stack) if layout is not None else None)
        assert stack.supervisor is not None
        stack.supervisor.run()
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    except StackError as exc:
        print(f"\nedvent-stack: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.down()
        print("stopped.", flush=True)
    return 0


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


def _ask(config: StackConfig, message: dict[str, Any], *, timeout: float) -> dict[str, Any]:
    try:
        return request(config.control_socket, message, timeout=timeout)
    except FileNotFoundError:
        raise StackError(f"nothing is running here (no {config.control_socket})") from None
    except ConnectionRefusedError:
        raise StackError(
            f"no supervisor answers on {config.control_socket} (killed?); "
            "`edvent-stack down` cleans up what it left"
        ) from None


def status(*, as_json: bool) -> int:
    config = StackConfig.from_env()
    try:
        answer = _ask(config, {"command": "status"}, timeout=30)
    except (StackError, OSError) as exc:
        print(f"edvent-stack: {exc}", file=sys.stderr)
        return 1
    parts = answer["parts"]
    if as_json:
        print(json.dumps(parts, indent=2))
        return 0
    print(f"{'PART':<11} {'STATE':<9} {'PID':>7}  {'ADDRESS':<27} {'HEALTH':<6} RESTARTS")
    for row in parts:
        pid = row["pid"] if row["pid"] is not None else "-"
        print(
            f"{row['part']:<11} {row['state']:<9} {pid:>7}  {row['address']:<27} "
            f"{row['health']:<6} {row['restarts']}"
            + (f"  ({row['message']})" if row["message"] else "")
        )
    return 0


def act(command: str, part: str) -> int:
    config = StackConfig.from_env()
    try:
        # Starting Kafka or a service may take a minute or more on a busy machine.
        answer = _ask(config, {"command": command, "part": part}, timeout=300)
    except (StackError, OSError) as exc:
        print(f"edvent-stack: {exc}", file=sys.stderr)
        return 1
    if "error" in answer:
        print(f"edvent-stack: {answer['error']}", file=sys.stderr)
        return 1
    row = answer["part"]
    wanted = "stopped" if command == "stop" else "running"
    print(f"{row['part']}: {row['state']}" + (f" ({row['message']})" if row["message"] else ""))
    return 0 if row["state"] == wanted else 1


def install() -> int:
    """Fetch the Kafka and S3Proxy jars with Maven and make Ralph's environment (once;
    cached under .cache/)."""
    from edvent_localstack.kafka import ensure_kafka_jars
    from edvent_localstack.ralph import ensure_ralph
    from edvent_localstack.s3 import ensure_s3proxy_jars

    try:
        ensure_kafka_jars()
        ensure_s3proxy_jars()
        ensure_ralph()
    except StackError as exc:
        print(f"edvent-stack: {exc}", file=sys.stderr)
        return 1
    return 0


_PART_HELP = ", ".join(PARTS) + ", or a replica with EDVENT_REPLICAS (identity-2, ...)"
_REPLICA = re.compile(rf"(?:{'|'.join(map(re.escape, SERVICES))})-[1-9][0-9]*")


def part_name(value: str) -> str:
    """A part `restart|stop|start` may name: one of PARTS, or a service's replica."""
    if value in PARTS or _REPLICA.fullmatch(value):
        return value
    raise argparse.ArgumentTypeError(f"invalid choice: {value!r} (choose from {_PART_HELP})")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="edvent-stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the whole platform and supervise it (foreground)")
    sub.add_parser("down", help="stop a platform started by `up` in another shell")
    sub.add_parser("install", help="fetch the Kafka and S3Proxy jars, install Ralph")
    status_cmd = sub.add_parser("status", help="every part: state, pid, address, health")
    status_cmd.add_argument("--json", action="store_true", help="as JSON")
    for verb in ("restart", "stop", "start"):
        verb_cmd = sub.add_parser(verb, help=f"{verb} one part")
        verb_cmd.add_argument("part", metavar="PART", type=part_name, help=_PART_HELP)
    args = parser.parse_args()
    if args.command == "status":
        sys.exit(status(as_json=args.json))
    if args.command in ("restart", "stop", "start"):
        sys.exit(act(args.command, args.part))
    sys.exit({"up": up, "down": down, "install": install}[args.command]())
