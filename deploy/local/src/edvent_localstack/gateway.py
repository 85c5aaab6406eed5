"""nginx as the API gateway, configured from deploy/gateway/edvent.conf.template."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from edvent_localstack.process import (
    REPO_ROOT,
    ManagedProcess,
    StackError,
    ensure_port_free,
)

TEMPLATE = REPO_ROOT / "deploy" / "gateway" / "edvent.conf.template"
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")
# The web client's build (`make dev` and `make test` run it); EDVENT_WEB_ROOT overrides.
WEB_BUILD = REPO_ROOT / "web" / "dist"


def default_web_root() -> Path | None:
    """The built client, when there is one."""
    configured = os.environ.get("EDVENT_WEB_ROOT")
    root = Path(configured) if configured else WEB_BUILD
    return root if (root / "index.html").is_file() else None


def web_config(root: Path) -> str:
    """A nested `location /` serving the single-page app from `root` (see the template).

    nginx's add_header is not inherited by a location that sets its own, so each level
    repeats the headers every answer carries; the CSP is the template's `$edvent_csp`.
    """
    headers = "\n".join(
        f"        add_header {name} {value} always;"
        for name, value in (
            ("X-Request-ID", "$edvent_request_id"),
            ("Content-Security-Policy", "$edvent_csp"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
        )
    )
    return f"""location / {{
    root {root};
    # The main config includes no mime.types: name the types a Vite build ships.
    types {{
        text/html html;
        text/css css;
        application/javascript js mjs;
        application/json json webmanifest;
        image/svg+xml svg;
        image/png png;
        image/x-icon ico;
        font/woff2 woff2;
    }}
    default_type application/octet-stream;
    gzip on;
    gzip_types text/css application/javascript image/svg+xml;
    # Hashed file names: a changed file gets a new name, so the old one can live forever.
    location /assets/ {{
{headers}
        add_header Cache-Control "public, max-age=31536000, immutable" always;
        try_files $uri =404;
    }}
    # index.html names the current assets: always revalidate it. Unknown paths are the
    # app's own routes (/courses/..., /lessons/...), so they get index.html too.
{headers}
    add_header Cache-Control "no-cache" always;
    try_files $uri /index.html;
}}
"""


def real_ip_config(trusted_proxies: tuple[str, ...]) -> str:
    """The template's ${GATEWAY_REAL_IP}: believe X-Forwarded-For only from these ranges.

    Empty when none are trusted: then the TCP peer is the client, whatever it claims.
    """
    if not trusted_proxies:
        return ""
    lines = [f"set_real_ip_from {cidr};" for cidr in trusted_proxies]
    return " ".join([*lines, "real_ip_header X-Forwarded-For;", "real_ip_recursive on;"])


def upstream_servers(addresses: str | Sequence[str]) -> str:
    """The template's `server ${X_UPSTREAM};` for one address or several: the others
    become `server` lines of their own in the same upstream block.

    nginx spreads requests round-robin. A process that refuses connections is skipped
    for the request (`proxy_next_upstream error`, the default; a POST too, since it was
    never sent) and left out for 10 s (`max_fails=1 fail_timeout=10s`, the defaults), so
    a killed replica costs the requests it had in flight, not the ones after.
    """
    if isinstance(addresses, str):
        return addresses
    if not addresses:
        raise StackError("an upstream needs at least one address")
    return "; server ".join(addresses)


def find_nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
    )
    if found is None:
        raise StackError(
            "nginx is not installed; `make dev` installs it with apt-get when run as root, "
            "otherwise install it yourself (Debian/Ubuntu: sudo apt-get install nginx)"
        )
    return found


def render(template: str, values: dict[str, str]) -> str:
    """Substitute ${NAME} like the nginx image's envsubst does: only the names we know."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise StackError(f"gateway template needs a value for ${{{name}}}")
        return values[name]

    return _VARIABLE.sub(replace, template)


@dataclass
class Gateway:
    run_dir: Path
    port: int
    # {"IDENTITY_UPSTREAM": ["127.0.0.1:8001", "127.0.0.1:8101"], ...}: a service's
    # processes (EDVENT_REPLICAS), a plain "host:port" for one.
    upstreams: Mapping[str, str | Sequence[str]]
    login_rate: str = "30r/m"
    login_burst: int = 20
    register_rate: str = "10r/m"
    register_burst: int = 10
    web_root: Path | None = None  # the built web client to serve at /, if any
    # Origins besides 'self' and data: that images may come from (CSP img-src).
    img_src_extra: str = ""
    # Proxies in front of the gateway (CIDR ranges) whose X-Forwarded-For names the
    # client; none by default (GATEWAY_TRUSTED_PROXIES in `make dev`).
    trusted_proxies: tuple[str, ...] = ()
    _process: ManagedProcess | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        # Origins go into a quoted CSP: a quote, semicolon or brace would break out of it.
        if not re.fullmatch(r"[A-Za-z0-9.:*/_ -]*", self.img_src_extra):
            raise StackError(
                f"GATEWAY_IMG_SRC_EXTRA is not a list of origins: {self.img_src_extra!r}"
            )
        for sub in ("conf.d", "temp", "logs", "web"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        site = self.run_dir / "web" / "site.conf"
        if self.web_root is not None:
            site.write_text(web_config(self.web_root.resolve()))
        else:
            site.unlink(missing_ok=True)
        values = {
            **{name: upstream_servers(addresses) for name, addresses in self.upstreams.items()},
            "GATEWAY_LISTEN": f"127.0.0.1:{self.port}",
            "GATEWAY_LOGIN_RATE": self.login_rate,
            "GATEWAY_LOGIN_BURST": str(self.login_burst),
            "GATEWAY_REGISTER_RATE": self.register_rate,
            "GATEWAY_REGISTER_BURST": str(self.register_burst),
            "GATEWAY_ACCESS_LOG": str(self.run_dir / "logs" / "access.log"),
            "GATEWAY_IMG_SRC_EXTRA": self.img_src_extra,
            "GATEWAY_REAL_IP": real_ip_config(self.trusted_proxies),
        }
        (self.run_dir / "conf.d" / "edvent.conf").write_text(render(TEMPLATE.read_text(), values))
        temp = self.run_dir / "temp"
        main = self.run_dir / "nginx.conf"
        main.write_text(
            f"""daemon off;
worker_processes 1;
pid {self.run_dir}/nginx.pid;
error_log {self.run_dir}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server_tokens off;
    # Keep bodies in memory rather than temp files: under root the workers run as
    # `nobody`, which may not reach a temp dir inside a private (0700) folder.
    client_body_buffer_size 6m;
    proxy_max_temp_file_size 0;
    include {self.run_dir}/conf.d/edvent.conf;
}}
"""
        )
        return main

    def start(self, timeout: float = 15) -> None:
        ensure_port_free(self.port, "the gateway (nginx)")
        nginx = find_nginx()
        main = self.write_config()
        argv = [
            nginx,
            "-p",
            str(self.run_dir),
            "-c",
            str(main),
            "-e",
            str(self.run_dir / "logs" / "error.log"),
        ]
        check = subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise StackError(f"nginx rejected the gateway configuration:\n{check.stderr}")
        self._process = ManagedProcess("nginx", argv, self.run_dir / "logs" / "nginx.out")
        self._process.start()
        self._process.wait_ready(self._healthy, timeout=timeout)

    def _healthy(self) -> bool:
        return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200

    def stop(self) -> None:
        if self._process is not None:
            # SIGQUIT would be graceful; TERM is nginx's fast shutdown, fine for dev.
            self._process.stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def running(self) -> bool:
        return self._process is not None and self._process.running()
