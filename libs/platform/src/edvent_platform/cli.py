"""The commands every service has: `migrate` and `serve`.

A service's own `cli.py` adds its extra commands and calls `service_main`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _alembic_config(service_dir: Path) -> Any:
    from alembic.config import Config

    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "migrations"))
    return config


def migrate(service_dir: Path, revision: str = "head") -> None:
    """Apply the service's Alembic migrations (a separate step, never at app start)."""
    from alembic import command

    command.upgrade(_alembic_config(service_dir), revision)


def downgrade(service_dir: Path, revision: str) -> None:
    """Roll the service's schema back to `revision` (e.g. `-1`, or `base`)."""
    from alembic import command

    command.downgrade(_alembic_config(service_dir), revision)


def serve(app_factory: str, *, host: str, port: int, workers: int = 1) -> None:
    """Uvicorn with `workers` processes on one port. Each runs the service's relay and
    consumers too, which is safe: one relay at a time holds the schema's advisory lock
    (the others wait as standbys), and consumers share the topic partitions as one
    group, the inbox skipping redeliveries. /metrics counts every worker
    (`metrics_multiprocess`)."""
    import uvicorn

    from edvent_platform import metrics_multiprocess

    # Before the workers start: they inherit where to write their samples.
    samples = metrics_multiprocess.prepare_workers(workers)
    try:
        uvicorn.run(
            app_factory,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # With several workers uvicorn kills one that misses a health ping for this
            # long; its 5 s default kills healthy workers on a busy machine, and each
            # replacement spends seconds of CPU importing the app again.
            timeout_worker_healthcheck=30,
            log_config=None,
            # Client addresses from X-Forwarded-For are the service's decision (identity
            # trusts them only when told to), not uvicorn's.
            proxy_headers=False,
            # Let in-flight requests and event handlers finish on SIGTERM.
            timeout_graceful_shutdown=20,
        )
    finally:
        metrics_multiprocess.remove(samples)


def service_main(
    *,
    prog: str,
    env_prefix: str,
    service_dir: Path,
    app_factory: str,
    default_port: int,
    extra: Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None] | None = None,
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=prog)
    sub = parser.add_subparsers(dest="command", required=True)
    migrate_cmd = sub.add_parser("migrate", help="apply database migrations (alembic upgrade)")
    migrate_cmd.add_argument("--revision", default="head", help="upgrade to (default: head)")
    downgrade_cmd = sub.add_parser("downgrade", help="roll database migrations back")
    downgrade_cmd.add_argument("revision", help="e.g. -1 for one step, or base")
    serve_cmd = sub.add_parser("serve", help="run the HTTP API and the event workers")
    serve_cmd.add_argument("--host", default=os.environ.get(f"{env_prefix}HOST", "127.0.0.1"))
    serve_cmd.add_argument(
        "--port", type=int, default=int(os.environ.get(f"{env_prefix}PORT", str(default_port)))
    )
    serve_cmd.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get(f"{env_prefix}WORKERS", "1")),
        help=f"processes serving the port (default: {env_prefix}WORKERS, else 1)",
    )
    if extra is not None:
        extra(sub)
    args = parser.parse_args(argv)
    # An installed (non-editable) package has no migrations beside it; images say
    # where they copied them.
    migrations_dir = Path(os.environ.get("EDVENT_SERVICE_DIR", service_dir))
    if args.command == "migrate":
        migrate(migrations_dir, args.revision)
    elif args.command == "downgrade":
        downgrade(migrations_dir, args.revision)
    elif args.command == "serve":
        serve(app_factory, host=args.host, port=args.port, workers=args.workers)
    else:
        args.func(args)
