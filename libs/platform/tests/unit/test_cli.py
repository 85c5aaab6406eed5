"""`edvent-<service> serve`: how many uvicorn processes it asks for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edvent_platform import cli


@pytest.mark.parametrize(("env", "argv", "workers"), [
    ({}, ["serve"], 1),
    ({"DEMO_WORKERS": "3"}, ["serve"], 3),
    ({"DEMO_WORKERS": "3"}, ["serve", "--workers", "2"], 2),
])  # fmt: skip
def test_serve_runs_as_many_workers_as_configured(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], argv: list[str], workers: int
) -> None:
    served: list[dict[str, Any]] = []
    monkeypatch.setattr(cli, "serve", lambda app_factory, **options: served.append(options))
    monkeypatch.delenv("DEMO_WORKERS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cli.service_main(
        prog="edvent-demo",
        env_prefix="DEMO_",
        service_dir=Path("."),
        app_factory="demo:create_app",
        default_port=8009,
        argv=argv,
    )
    assert served == [{"host": "127.0.0.1", "port": 8009, "workers": workers}]
