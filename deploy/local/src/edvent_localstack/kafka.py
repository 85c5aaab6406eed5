"""Apache Kafka (KRaft, one combined broker+controller node) run from the Maven jars.

The official `org.apache.kafka:kafka_2.13` artifact and its dependencies are copied
once from Maven Central into `.cache/jars/kafka` (deploy/local/kafka/pom.xml lists
them), and the broker runs as `java -cp '<jars>/*' kafka.Kafka server.properties`:
no Docker and no Kafka tarball (which Maven Central does not carry).

The data directory is formatted on the first start only and kept afterwards, so
`make dev` keeps its topics and offsets across restarts. `server.properties` is
rewritten on every start because the ports may change between runs (tests pick free
ports); Kafka 4.1 updates the controller endpoint stored in its quorum state by
itself when the controller port changes (checked by the launcher test).

Topics are not auto-created (`auto.create.topics.enable=false`), so a mistyped topic
name fails instead of silently creating a second topic with default settings. The
broker creates the platform's topics (`CONTRACT_TOPICS`: the domain topics and each
consumer's dead-letter and retry topics; `identity.user-keys` compacted with
`COMPACTED_TOPIC_CONFIG`) when it starts; anything else (test topics)
is created explicitly, as the admin, with `create_topics` or
`edvent_events.admin.ensure_topics`.

Every client authenticates (SASL SCRAM-SHA-512 on the client listener) and is
authorised by the StandardAuthorizer with `allow.everyone.if.no.acl.found=false`:
`admin` is the super user (the stack's tools, the readiness probe, tests' scratch
topics), each service and `data-team` get the ACLs of `edvent_events.acls`. The admin's
SCRAM credential is written when the storage is formatted (`--add-scram`, KIP-900) so
the broker can authenticate to itself; the others are set through the admin on every
start, so a changed password takes effect at the next start. The controller listener
stays on loopback, with SASL PLAIN and the admin as its only user.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import secrets
import subprocess
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CoordinatorNotAvailableError, KafkaError

from edvent_events.acls import (
    ADMIN,
    COMPACTED_TOPICS,
    DATA_TEAM,
    SERVICES,
    apply_acls,
    platform_acls,
    service_topics,
    upsert_scram_users,
)
from edvent_events.admin import TopicCreationError, ensure_topics_with
from edvent_events.connection import Kafka, KafkaConnection, client_kwargs
from edvent_events.topics import COMPACTED_TOPIC_CONFIG
from edvent_localstack.jvm import JARS_DIR, ensure_jars, java
from edvent_localstack.process import (
    LOCAL_DIR,
    ManagedProcess,
    StackError,
    ensure_port_free,
    wait_for_port,
)

KAFKA_JARS_DIR = JARS_DIR / "kafka"
KAFKA_POM = LOCAL_DIR / "kafka" / "pom.xml"
KAFKA_LOG4J_CONFIG = LOCAL_DIR / "kafka" / "log4j2.yaml"

CONTRACT_TOPICS = service_topics()
SASL_MECHANISM: Final = "SCRAM-SHA-512"
# Written next to meta.properties by a format that added the admin's SCRAM credential:
# storage formatted before authentication existed has no admin to log in as.
AUTH_MARKER = ".edvent-scram"

# Readiness probe: one message through this topic and a committed offset in this group.
PROBE_TOPIC = "edvent.localstack.probe"
PROBE_GROUP = "edvent-localstack-probe"

# Small heaps: the dev stack and the test session each run a broker next to other JVMs
# (S3 server) on a 2-core machine.
JVM_OPTIONS = [
    "-Xms256m",
    "-Xmx512m",
    # Serial GC and the C1 compiler only: on a 2-core box a broker then starts with about
    # half the CPU (bench/HISTORY.md); a dev/test broker never needs C2's peak throughput.
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    # A broker that ran out of memory should die (and be reported), not limp on.
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
]
STORAGE_TOOL_CLASS = "kafka.tools.StorageTool"  # what bin/kafka-storage.sh runs
BROKER_CLASS = "kafka.Kafka"  # what bin/kafka-server-start.sh runs

T = TypeVar("T")


def ensure_kafka_jars() -> Path:
    """The broker's jars, copied from Maven once (see `jvm.ensure_jars`)."""
    return ensure_jars("kafka", KAFKA_POM, main_jar="kafka_2.13-*.jar")


# --- the broker -------------------------------------------------------------------


def _new_cluster_id() -> str:
    """What `kafka-storage.sh random-uuid` prints, without starting a JVM for it."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # Kafka never hands out ids starting with "-": command lines would read them as flags.
        if not cluster_id.startswith("-"):
            return cluster_id


def _password() -> str:
    return secrets.token_urlsafe(18)


def _default_users() -> dict[str, str]:
    return {name: _password() for name in (*SERVICES, DATA_TEAM)}


@dataclass
class KafkaBroker:
    data_dir: Path  # holds server.properties and logs/ (log.dirs and the metadata log)
    port: int  # client listener SASL_PLAINTEXT://127.0.0.1:port
    controller_port: int  # KRaft controller listener
    log_file: Path
    default_partitions: int = 1
    # The super user; must stay the same across starts of one data dir (`make dev`
    # keeps it in .local/secrets.json).
    admin_password: str = field(default_factory=_password, repr=False)
    # Every other principal and its password (services, data-team), set on each start.
    users: Mapping[str, str] = field(default_factory=_default_users, repr=False)
    # Created (when missing) with default_partitions every time the broker starts.
    topics: Sequence[str] = field(default_factory=lambda: list(CONTRACT_TOPICS))
    jvm_options: Sequence[str] = field(default_factory=lambda: list(JVM_OPTIONS))
    _process: ManagedProcess | None = field(default=None, init=False, repr=False)
    _probe_error: BaseException | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # The JVM runs in data_dir and gets these paths in server.properties: a relative
        # path would be resolved twice.
        self.data_dir = self.data_dir.resolve()
        self.log_file = self.log_file.resolve()

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def admin(self) -> KafkaConnection:
        """The stack's own tools: a super user."""
        return self._as(ADMIN, self.admin_password)

    def connection(self, user: str) -> KafkaConnection:
        """A service's principal (`content`, …) or `data-team`."""
        if user == ADMIN:
            return self.admin
        return self._as(user, self.users[user])

    def _as(self, user: str, password: str) -> KafkaConnection:
        return KafkaConnection(
            self.bootstrap_servers,
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism=SASL_MECHANISM,
            username=user,
            password=password,
        )

    def client_kwargs(self, user: str = ADMIN) -> dict[str, Any]:
        """Keyword arguments for an aiokafka client connecting as `user`."""
        return self.connection(user).client_kwargs()

    def service_settings(self, service: str) -> dict[str, str]:
        """A service's Kafka settings (its `Settings` fields) for its own principal."""
        connection = self.connection(service)
        assert connection.password is not None
        return {
            "kafka_bootstrap_servers": connection.bootstrap_servers,
            "kafka_security_protocol": connection.security_protocol,
            "kafka_sasl_mechanism": connection.sasl_mechanism,
            "kafka_username": service,
            "kafka_password": connection.password,
        }

    def service_env(self, service: str, prefix: str) -> dict[str, str]:
        """The same as environment variables with the service's prefix."""
        return {
            f"{prefix}{name.upper()}": value
            for name, value in self.service_settings(service).items()
        }

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def properties_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def _pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def running(self) -> bool:
        return self._process is not None and self._process.running()

    def server_properties(self) -> dict[str, str]:
        controller = f"127.0.0.1:{self.controller_port}"
        admin = f'username="{ADMIN}" password="{self.admin_password}"'
        return {
            # One process is both the broker and the (single-voter) KRaft controller.
            "process.roles": "broker,controller",
            "node.id": "1",
            # Dynamic quorum (KIP-853), what `format --standalone` sets up.
            "controller.quorum.bootstrap.servers": controller,
            "listeners": f"CLIENT://{self.bootstrap_servers},CONTROLLER://{controller}",
            "advertised.listeners": f"CLIENT://{self.bootstrap_servers}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "CLIENT",
            "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT",
            # Clients (and the broker to itself, as the admin): SCRAM-SHA-512, whose
            # credentials live in the metadata log.
            "listener.name.client.sasl.enabled.mechanisms": SASL_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": SASL_MECHANISM,
            "listener.name.client.scram-sha-512.sasl.jaas.config": (
                f"org.apache.kafka.common.security.scram.ScramLoginModule required {admin};"
            ),
            # The controller (loopback only): PLAIN with the admin as its one user, so
            # it works before any SCRAM credential is readable.
            "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
            "sasl.mechanism.controller.protocol": "PLAIN",
            "listener.name.controller.plain.sasl.jaas.config": (
                "org.apache.kafka.common.security.plain.PlainLoginModule required "
                f'{admin} user_{ADMIN}="{self.admin_password}";'
            ),
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            "super.users": f"User:{ADMIN}",
            "log.dirs": str(self.log_dir),
            "num.partitions": str(self.default_partitions),
            "auto.create.topics.enable": "false",
            # Internal topics default to replication 3, impossible on one node.
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # ...and 50 partitions each: slow to create and pointless on one small node.
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.num.partitions": "1",
            "share.coordinator.state.topic.num.partitions": "1",
            # Consumers (tests above all) get their partitions at once, not after 3 s.
            "group.initial.rebalance.delay.ms": "0",
            # Fewer threads than a production broker: a 2-core machine, little traffic.
            "num.network.threads": "2",
            "num.io.threads": "4",
            "background.threads": "4",
        }

    def _write_properties(self) -> None:
        lines = [
            "# Written by edvent_localstack.kafka on every start; edits here are lost.",
            *(f"{key}={value}" for key, value in self.server_properties().items()),
        ]
        tmp = self.properties_file.with_suffix(".tmp")
        tmp.touch(mode=0o600)  # it holds the admin's password
        tmp.chmod(0o600)
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(self.properties_file)

    def _java_argv(self, jars: Path, main_class: str, *args: str) -> list[str]:
        return [
            java(),
            *self.jvm_options,
            f"-Dlog4j2.configurationFile={KAFKA_LOG4J_CONFIG}",
            "-cp",
            f"{jars}/*",  # expanded by the JVM, not by a shell
            main_class,
            *args,
        ]

    def _format(self, jars: Path) -> None:
        """Format the log dir as a standalone KRaft quorum (what a first start needs)."""
        result = subprocess.run(
            self._java_argv(
                jars,
                STORAGE_TOOL_CLASS,
                "format",
                "--standalone",
                "--cluster-id",
                _new_cluster_id(),
                "--config",
                str(self.properties_file),
                "--add-scram",
                f"{SASL_MECHANISM}=[name={ADMIN},password={self.admin_password}]",
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not (self.log_dir / "meta.properties").exists():
            raise StackError(
                f"formatting the Kafka storage in {self.log_dir} failed "
                f"(exit code {result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        (self.log_dir / AUTH_MARKER).touch()

    def _set_aside_storage_without_auth(self) -> None:
        """Storage formatted before the broker authenticated clients has no admin to
        log in as: it is kept aside (topics and offsets with it) and formatted anew."""
        if (self.log_dir / "meta.properties").exists() and not (
            self.log_dir / AUTH_MARKER
        ).exists():
            aside = self.data_dir / f"logs.before-auth-{int(time.time())}"
            self.log_dir.rename(aside)
            print(f"  Kafka: storage without authentication moved to {aside}", flush=True)

    def start(self, timeout: float = 90) -> None:
        if self.running():
            return
        deadline = time.monotonic() + timeout
        ensure_port_free(self.port, "Kafka")
        ensure_port_free(self.controller_port, "the Kafka controller")
        self._ensure_data_dir_unused()
        jars = ensure_kafka_jars()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_properties()
        self._set_aside_storage_without_auth()
        # meta.properties is what the storage tool writes and the broker checks for.
        if not (self.log_dir / "meta.properties").exists():
            self._format(jars)
        self._process = ManagedProcess(
            "kafka",
            self._java_argv(jars, BROKER_CLASS, str(self.properties_file)),
            self.log_file,
            cwd=self.data_dir,
        )
        log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        self._process.start()
        self._pid_file.write_text(f"{self._process.pid}\n")  # named in "already running"
        self._probe_error = None
        try:
            # Ready means a client can really produce and consume, not just connect.
            try:
                self._process.wait_ready(
                    lambda: self._probe(deadline), timeout=max(deadline - time.monotonic(), 1)
                )
            except StackError as exc:
                # The log's tail is mostly shutdown chatter; the cause is in its ERROR
                # lines. wait_ready also swallows the probe's exceptions.
                details = [str(exc)]
                if errors := _logged_errors(self.log_file, log_offset):
                    details.append(f"Kafka logged:\n{errors}")
                if self._probe_error is not None:
                    details.append(f"last readiness probe: {self._probe_error}")
                raise StackError("\n".join(details)) from exc
            self._grant()
            if self.topics:
                topics = list(self.topics)
                create_topics(
                    self.admin,
                    [t for t in topics if t not in COMPACTED_TOPICS],
                    partitions=self.default_partitions,
                )
                create_topics(
                    self.admin,
                    [t for t in topics if t in COMPACTED_TOPICS],
                    partitions=self.default_partitions,
                    configs=COMPACTED_TOPIC_CONFIG,
                )
        except BaseException:
            self.stop()
            raise

    def _ensure_data_dir_unused(self) -> None:
        """Refuse to start a second broker on a data dir that a running broker holds.

        Kafka notices that only after its raft thread has already opened the live
        metadata log (the second JVM then reads half-written records), so we check the
        lock first. Kafka holds `logs/.lock` with FileChannel.tryLock, a POSIX record
        lock on Linux, which `fcntl.lockf` sees.
        """
        lock_file = self.log_dir / ".lock"
        if not lock_file.exists():
            return
        with lock_file.open("rb+") as handle:
            try:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                pid = self._pid_file.read_text().strip() if self._pid_file.exists() else "?"
                raise StackError(
                    f"another Kafka broker (pid {pid}) is running on {self.data_dir}; stop it "
                    f"first (a `make dev` still running, or a broker left by a killed run)"
                ) from exc
            fcntl.lockf(handle, fcntl.LOCK_UN)

    def _probe(self, deadline: float) -> bool:
        # Until the listener is open a client would only log connection errors.
        if not wait_for_port(self.port, timeout=0.5):
            return False
        # Bounded per attempt so that a hung attempt leaves time for the next ones.
        try:
            round_trip(self.admin, timeout=max(min(15.0, deadline - time.monotonic()), 1))
        except Exception as exc:
            self._probe_error = exc
            raise
        return True

    def _grant(self) -> None:
        """Every principal's password and the platform's ACLs (as the admin)."""
        users = dict(self.users)
        services = [s for s in SERVICES if s in users]
        _run_sync(
            lambda: grant_async(self.admin, users, services=services, data_team=DATA_TEAM in users)
        )

    def stop(self) -> None:
        if self._process is None:
            return
        # SIGTERM makes Kafka shut down cleanly (flush, close logs, no recovery next
        # start); a combined single node needs a few seconds, SIGKILL only after 30.
        self._process.stop(timeout=30)
        if not self._process.running():
            self._pid_file.unlink(missing_ok=True)


def _logged_errors(log_file: Path, offset: int, limit: int = 8) -> str:
    """The ERROR lines (with the exception line after each) written since `offset`."""
    try:
        with log_file.open("rb") as handle:
            handle.seek(offset)
            lines = handle.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return ""
    found: list[str] = []
    for index, line in enumerate(lines):
        if "] ERROR " in line:
            found.append(line)
            after = lines[index + 1] if index + 1 < len(lines) else ""
            if after and not after.startswith("["):  # the exception's class and message
                found.append("    " + after)
    return "\n".join(found[-limit:])


# --- clients ----------------------------------------------------------------------


def _run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine from sync code, also when an event loop already runs here.

    Async tests and fixtures call the sync API (e.g. `broker.start()`); asyncio.run
    refuses to nest, so there the coroutine gets its own loop in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="edvent-kafka") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


async def grant_async(
    kafka: Kafka,
    users: Mapping[str, str],
    *,
    services: Sequence[str],
    data_team: bool,
    timeout: float = 30,
) -> None:
    admin = AIOKafkaAdminClient(**client_kwargs(kafka), request_timeout_ms=10_000)
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            if users:
                await upsert_scram_users(admin, users)
            await apply_acls(admin, platform_acls(services, data_team=data_team))
    except (TimeoutError, KafkaError, RuntimeError) as exc:
        raise StackError(f"setting Kafka users and ACLs failed: {exc!r}") from exc
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


async def create_topics_async(
    bootstrap_servers: Kafka,
    topics: Sequence[str],
    *,
    partitions: int,
    replication: int = 1,
    timeout: float = 30,
    configs: Mapping[str, str] | None = None,
) -> None:
    """Create the missing topics and wait until each partition has a leader.

    Existing topics are left as they are (their partition count is not changed).
    """
    if not topics:
        return
    admin = AIOKafkaAdminClient(**client_kwargs(bootstrap_servers), request_timeout_ms=10_000)
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            await ensure_topics_with(
                admin, topics, partitions=partitions, replication=replication, configs=configs
            )
    except TimeoutError as exc:
        raise StackError(
            f"creating Kafka topics {sorted(topics)} at {bootstrap_servers} "
            f"took over {timeout:.0f}s"
        ) from exc
    except (KafkaError, TopicCreationError) as exc:
        raise StackError(
            f"creating Kafka topics {sorted(topics)} at {bootstrap_servers} failed: {exc!r}"
        ) from exc
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def create_topics(
    bootstrap_servers: Kafka,
    topics: list[str],
    *,
    partitions: int,
    replication: int = 1,
    timeout: float = 30,
    configs: Mapping[str, str] | None = None,
) -> None:
    """Sync wrapper around `create_topics_async` (idempotent)."""
    _run_sync(
        lambda: create_topics_async(
            bootstrap_servers,
            topics,
            partitions=partitions,
            replication=replication,
            timeout=timeout,
            configs=configs,
        )
    )


async def round_trip_async(bootstrap_servers: Kafka, timeout: float = 30) -> None:
    """Produce one message and consume it back, the way the services do.

    The producer is idempotent with acks=all (like the outbox relay) and the consumer
    commits its offset in a group (like the services' consumers), so this also makes
    the broker create its producer-id and group-coordinator state before anyone needs
    them.
    """
    payload = uuid.uuid4().hex.encode()
    kwargs = client_kwargs(bootstrap_servers)
    admin = AIOKafkaAdminClient(**kwargs, request_timeout_ms=10_000)
    producer = AIOKafkaProducer(
        **kwargs,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
    )
    consumer = AIOKafkaConsumer(
        **kwargs,
        group_id=PROBE_GROUP,
        enable_auto_commit=False,
        request_timeout_ms=10_000,
    )
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            # Probes are worthless after the start they checked; keep them an hour.
            await ensure_topics_with(
                admin, [PROBE_TOPIC], partitions=1, configs={"retention.ms": "3600000"}
            )
            await producer.start()
            sent = await producer.send_and_wait(PROBE_TOPIC, payload, key=b"probe")
            await _wait_for_group_coordinator(admin, PROBE_GROUP)
            await consumer.start()
            partition = TopicPartition(PROBE_TOPIC, sent.partition)
            consumer.assign([partition])
            consumer.seek(partition, sent.offset)
            record = await consumer.getone(partition)
            if record.value != payload:
                raise StackError(
                    f"Kafka round trip at {bootstrap_servers}: read back {record.value!r} "
                    f"at offset {record.offset}, expected {payload!r}"
                )
            await consumer.commit({partition: sent.offset + 1})
    except TimeoutError as exc:
        raise StackError(
            f"no produce/consume round trip through Kafka at {bootstrap_servers} "
            f"within {timeout:.0f}s"
        ) from exc
    except KafkaError as exc:
        raise StackError(f"Kafka round trip at {bootstrap_servers} failed: {exc!r}") from exc
    finally:
        for client in (consumer, producer):
            with contextlib.suppress(Exception):
                await client.stop()
        with contextlib.suppress(Exception):
            await admin.close()


async def _wait_for_group_coordinator(admin: AIOKafkaAdminClient, group: str) -> None:
    # The first FindCoordinator makes the broker create __consumer_offsets, which takes
    # a moment; polling here keeps the consumer from logging that wait as an ERROR.
    while True:
        try:
            await admin.find_coordinator(group)
        except CoordinatorNotAvailableError:
            await asyncio.sleep(0.1)
        else:
            return


def round_trip(bootstrap_servers: Kafka, timeout: float = 30) -> None:
    """Sync wrapper around `round_trip_async`; raises StackError when it fails."""
    _run_sync(lambda: round_trip_async(bootstrap_servers, timeout))
