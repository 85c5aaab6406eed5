"""The local Learning Record Store: Ralph (PyPI `ralph-malph`), openfun's xAPI LRS, on
its file-system backend, so it needs no other server.

Ralph pins FastAPI, uvicorn and friends well below the workspace's, so it lives in its
own virtual environment under `.cache/ralph/<version>/` (made once by `edvent-stack
install`, which `make dev` and `make test` run; it also needs `requests`, which its
extras do not declare). The server runs as `uvicorn edvent_ralph:app` (deploy/local/
ralph: Ralph's app, its file-system backend appending), what `ralph runserver -b fs`
runs too, minus its source reloader. Credentials for HTTP Basic auth
are written with `ralph auth -w` into the auth file under RALPH_APP_DIR (that command
needs RALPH_RUNSERVER_BACKEND=fs as well).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from edvent_localstack.process import (
    CACHE_DIR,
    LOCAL_DIR,
    HttpServerProcess,
    ManagedProcess,
    StackError,
    ensure_port_free,
)
from edvent_localstack.services import BACKGROUND_NICE

RALPH_VERSION = "5.1.0"
RALPH_REQUIREMENTS = (f"ralph-malph[cli,lrs]=={RALPH_VERSION}", "requests>=2.32")
RALPH_USERNAME = "edvent"


def ralph_venv() -> Path:
    return Path(os.environ.get("EDVENT_RALPH_VENV", CACHE_DIR / "ralph" / RALPH_VERSION))


def _uv() -> list[str]:
    found = subprocess.run(["uv", "--version"], capture_output=True, check=False)
    return ["uv"] if found.returncode == 0 else [sys.executable, "-m", "uv"]


def ensure_ralph() -> Path:
    """Ralph's own environment (once); returns its bin directory."""
    venv = ralph_venv()
    marker = venv / ".installed"
    if marker.exists():
        return venv / "bin"
    print(f"installing Ralph {RALPH_VERSION} into {venv} (once)", flush=True)
    uv = _uv()
    for argv in (
        [*uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [*uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         *RALPH_REQUIREMENTS],
    ):  # fmt: skip
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"installing Ralph failed ({' '.join(argv)}):\n{result.stderr}")
    marker.touch()
    return venv / "bin"


@dataclass
class RalphServer(HttpServerProcess):
    data_dir: Path
    port: int
    log_file: Path
    password: str
    username: str = RALPH_USERNAME
    # The platform's base URL: the account the credentials' agent is known by.
    home_page: str = "http://127.0.0.1:8080"
    _process: ManagedProcess | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RALPH_")}
        env.update(
            {
                "RALPH_APP_DIR": str(self.data_dir / "app"),
                "RALPH_RUNSERVER_BACKEND": "fs",
                "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.data_dir / "lrs"),
                "RALPH_AUTH_FILE": str(self.data_dir / "app" / "auth.json"),
            }
        )
        env.pop("VIRTUAL_ENV", None)
        return env

    def write_credentials(self, bin_dir: Path) -> None:
        """The one Basic-auth user the service posts (and the tour reads) as; written
        afresh on each start, so a changed password takes effect."""
        auth_file = self.data_dir / "app" / "auth.json"
        auth_file.unlink(missing_ok=True)
        auth_file.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                str(bin_dir / "ralph"), "auth",
                "--username", self.username,
                "--password", self.password,
                "--scope", "all",
                "--agent-ifi-account", self.username, self.home_page,
                "--write-to-disk",
            ],
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise StackError(f"ralph auth failed:\n{result.stdout}{result.stderr}")

    # Ralph imports for 15 s on an idle 2-core machine; far longer on a busy one.
    def start(self, timeout: float = 180) -> None:
        ensure_port_free(self.port, "Ralph (LRS)")
        bin_dir = ensure_ralph()
        (self.data_dir / "lrs").mkdir(parents=True, exist_ok=True)
        self.write_credentials(bin_dir)
        # The LRS, like learning-records that feeds it, is background work (services.py).
        argv = [
            *BACKGROUND_NICE, str(bin_dir / "uvicorn"), "edvent_ralph:app",
            "--app-dir", str(LOCAL_DIR / "ralph"),
            "--host", "127.0.0.1", "--port", str(self.port),
            "--no-access-log",
        ]  # fmt: skip
        self._launch(
            ManagedProcess("Ralph", argv, self.log_file, env=self.env(), cwd=self.data_dir),
            port=self.port,
            health_url=f"{self.url}/__heartbeat__",
            timeout=timeout,
        )
