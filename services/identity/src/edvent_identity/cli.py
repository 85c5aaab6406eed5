"""`edvent-identity`: run migrations, serve the API."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

SERVICE_DIR = Path(__file__).resolve().parents[2]


def migrate() -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(SERVICE_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(SERVICE_DIR / "migrations"))
    command.upgrade(config, "head")


def serve(host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(
        "edvent_identity.main:create_app",
        factory=True,
        host=host,
        port=port,
        log_config=None,
        timeout_graceful_shutdown=20,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="edvent-identity")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
    serve_cmd = sub.add_parser("serve", help="run the HTTP API and the event workers")
    serve_cmd.add_argument("--host", default=os.environ.get("IDENTITY_HOST", "127.0.0.1"))
    serve_cmd.add_argument("--port", type=int, default=int(os.environ.get("IDENTITY_PORT", "8001")))
    args = parser.parse_args()
    if args.command == "migrate":
        migrate()
    elif args.command == "serve":
        serve(args.host, args.port)
