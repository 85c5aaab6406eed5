"""The local trace viewer: Jaeger v2, OTLP over HTTP in, its UI and query API out,
traces kept in memory only.

The binary is built once from the Go module proxy (`make jaeger`, which `make dev` and
`make test` depend on) into `.cache/jaeger/<version>/`, from the small module in
tools/jaeger (`go install …@version` refuses Jaeger: its go.mod has replace
directives); EDVENT_JAEGER names another one. Our own configuration listens only on
127.0.0.1 and on the ports given, so several stacks (tests, a second checkout) can run
side by side; run with no arguments Jaeger would take fixed ports, a dozen of them.

jaeger-ui's assets are not in the Go module (Jaeger's release binaries embed a build of
that separate project, which no package registry carries), so a bare build serves only
the query API (`/api/...`, what the tests read) and a placeholder page. The launcher
points `jaeger_query.ui.assets_path` at our own small viewer instead,
deploy/local/trace-viewer/ (plain HTML, JavaScript and CSS reading that same API: pick a
service, its recent traces, one trace as a waterfall with each span's attributes,
events and links, or a trace opened by its id). Jaeger serves `static/*` from that
directory and its `index.html` for every other path outside `/api`, so the viewer's
screens have URLs of their own (`/search?service=content`, `/trace/<trace id>`, the same
as jaeger-ui's). EDVENT_JAEGER_UI naming a built jaeger-ui (its `packages/jaeger-ui/build`
directory, or the assets of a Jaeger release) serves that instead.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from edvent_localstack.process import (
    CACHE_DIR,
    LOCAL_DIR,
    HttpServerProcess,
    ManagedProcess,
    StackError,
    ensure_port_free,
)

JAEGER_VERSION = "v1.75.0"
# Our trace viewer: Jaeger's `ui.assets_path` (index.html, static/app.js, static/style.css).
TRACE_VIEWER = LOCAL_DIR / "trace-viewer"

_CONFIG = """\
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn

extensions:
  jaeger_storage:
    backends:
      memory_store:
        memory:
          max_traces: {max_traces}
  jaeger_query:
    # Else it traces its own queries to an OTLP endpoint at 127.0.0.1:4317: nothing
    # there, or another stack's viewer.
    enable_tracing: false
    storage:
      traces: memory_store
    ui:
      assets_path: {ui_assets}
    http:
      endpoint: 127.0.0.1:{ui_port}
    grpc:
      endpoint: 127.0.0.1:{grpc_port}

receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{otlp_port}

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: memory_store
"""


def jaeger_binary() -> Path:
    path = Path(os.environ.get("EDVENT_JAEGER", CACHE_DIR / "jaeger" / JAEGER_VERSION / "jaeger"))
    if not path.exists():
        raise StackError(
            f"Jaeger is missing at {path}: run `make jaeger` (it builds it once), "
            "or start without traces (EDVENT_TRACING=off)"
        )
    return path


@dataclass
class JaegerServer(HttpServerProcess):
    run_dir: Path
    otlp_port: int
    ui_port: int
    grpc_port: int
    log_file: Path
    max_traces: int = 50_000
    ui_assets: str = field(
        default_factory=lambda: os.environ.get("EDVENT_JAEGER_UI") or str(TRACE_VIEWER)
    )
    _process: ManagedProcess | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        """The UI, and the query API under /api."""
        return f"http://127.0.0.1:{self.ui_port}"

    @property
    def otlp_endpoint(self) -> str:
        """What services take as OTEL_EXPORTER_OTLP_ENDPOINT (OTLP over HTTP)."""
        return f"http://127.0.0.1:{self.otlp_port}"

    def start(self, timeout: float = 60) -> None:
        ensure_port_free(self.otlp_port, "Jaeger OTLP")
        ensure_port_free(self.ui_port, "Jaeger UI")
        ensure_port_free(self.grpc_port, "Jaeger query gRPC")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        config = self.run_dir / "jaeger.yaml"
        config.write_text(
            _CONFIG.format(
                max_traces=self.max_traces,
                ui_port=self.ui_port,
                grpc_port=self.grpc_port,
                otlp_port=self.otlp_port,
                ui_assets=json.dumps(self.ui_assets),
            )
        )
        argv = [str(jaeger_binary()), "--config", f"file:{config}"]
        self._launch(
            ManagedProcess("Jaeger", argv, self.log_file, cwd=self.run_dir),
            port=self.otlp_port,
            health_url=f"{self.url}/api/services",
            timeout=timeout,
        )


class JaegerClient:
    """Jaeger's query API (the one its UI reads), as tests read it."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def trace(self, trace_id: str) -> dict[str, Any] | None:
        """One trace (`spans`, `processes`), or None while Jaeger has none of it."""
        answer = httpx.get(f"{self.url}/api/traces/{trace_id}", timeout=5)
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        found: list[dict[str, Any]] = answer.json().get("data") or []
        return found[0] if found else None
