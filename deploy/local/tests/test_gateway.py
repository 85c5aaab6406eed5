"""The nginx gateway, run for real in front of small upstream servers."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from edvent_localstack.gateway import Gateway
from edvent_localstack.process import StackError, free_port

UPSTREAMS = ("IDENTITY", "CONTENT", "ASSESSMENT", "AI_NOTES")


def echo_server(name: str) -> ThreadingHTTPServer:
    class Echo(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            body = json.dumps(
                {"upstream": name, "path": self.path, "headers": dict(self.headers.items())}
            ).encode()
            self.send_response(200)
            # A test may ask for another type (lesson bodies are text/markdown).
            self.send_header("content-type", self.headers.get("x-echo-type", "application/json"))
            self.send_header("x-request-id", "set-by-upstream")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_TRACE = _answer  # noqa: N815 - http.server names

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    servers = {name: echo_server(name) for name in UPSTREAMS}
    gw = Gateway(
        run_dir=Path(tmp_path_factory.mktemp("gateway")),
        port=free_port(),
        upstreams={
            f"{name}_UPSTREAM": f"127.0.0.1:{server.server_address[1]}"
            for name, server in servers.items()
        },
        # One request per 10 s: ten sequential requests on a busy machine cannot take
        # long enough for the bucket to refill (at 60r/m one did, once).
        login_rate="6r/m",
        login_burst=3,
        register_rate="6r/m",
        register_burst=3,
    )
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()
        for server in servers.values():
            server.shutdown()


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/api/v1/auth/jwks", "IDENTITY"),
        ("/api/v1/users", "IDENTITY"),
        ("/api/v1/users/me", "IDENTITY"),
        ("/api/v1/courses?limit=5", "CONTENT"),
        ("/api/v1/lessons/123/content", "CONTENT"),
        ("/api/v1/exams", "ASSESSMENT"),
        ("/api/v1/attempts/1", "ASSESSMENT"),
        ("/api/v1/notes/search?q=x", "AI_NOTES"),
    ],
)
def test_prefixes_route_to_their_service_with_path_and_query_intact(gateway, path, upstream):
    answer = httpx.get(gateway.url + path)
    assert answer.status_code == 200
    assert answer.json()["upstream"] == upstream
    assert answer.json()["path"] == path


@pytest.mark.parametrize("path", ["/", "/api/v1/usersX", "/api/v2/users", "/api/v1/note"])
def test_unknown_routes_get_a_problem_404_from_the_gateway(gateway, path):
    answer = httpx.get(gateway.url + path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 404


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/api/v1/users/me", "IDENTITY"),
        ("/api/v1/lessons/1", "CONTENT"),
        ("/api/v1/notes", "AI_NOTES"),
    ],
)
def test_trace_is_answered_by_the_service_behind_the_path(gateway, path, upstream):
    # nginx alone refuses TRACE with an HTML 405 and no Allow header; the service
    # answers 405 problem+json with the resource's methods.
    answer = httpx.request("TRACE", gateway.url + path)
    assert answer.json()["upstream"] == upstream
    assert answer.json()["path"] == path


def test_trace_outside_the_api_is_a_problem_404(gateway):
    answer = httpx.request("TRACE", gateway.url + "/api/v2/users")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_gateway_answers_healthz_itself(gateway):
    answer = httpx.get(gateway.url + "/healthz")
    assert answer.json() == {"status": "ok"}


def test_request_id_is_forwarded_and_returned_once(gateway):
    answer = httpx.get(gateway.url + "/api/v1/exams", headers={"X-Request-ID": "client-42"})
    assert answer.json()["headers"]["X-Request-ID"] == "client-42"
    assert answer.headers.get_list("x-request-id") == ["client-42"]
    generated = httpx.get(gateway.url + "/api/v1/exams")
    request_id = generated.headers["x-request-id"]
    assert len(request_id) == 32
    assert generated.json()["headers"]["X-Request-ID"] == request_id


def test_a_malformed_request_id_is_replaced(gateway):
    answer = httpx.get(gateway.url + "/api/v1/exams", headers={"X-Request-ID": "bad id; drop"})
    assert answer.headers["x-request-id"] != "bad id; drop"


def test_client_address_is_forwarded(gateway):
    headers = httpx.get(gateway.url + "/api/v1/users/me").json()["headers"]
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Real-IP"] == "127.0.0.1"


def test_bodies_over_the_limit_are_refused_with_413(gateway):
    answer = httpx.put(gateway.url + "/api/v1/lessons/1/content", content=b"x" * (7 * 1024 * 1024))
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    five_mib = httpx.put(
        gateway.url + "/api/v1/lessons/1/content", content=b"x" * (5 * 1024 * 1024)
    )
    assert five_mib.status_code == 200


def test_a_long_search_question_reaches_the_service(gateway):
    # 1,000 four-byte characters, percent-encoded: 12 KiB of request line, past nginx's
    # default 8 KiB buffer (its own HTML 414), within the service's limits.
    question = "\U0001f600" * 1000
    answer = httpx.get(gateway.url + "/api/v1/notes/search", params={"q": question})
    assert answer.status_code == 200
    assert answer.json()["upstream"] == "AI_NOTES"


def test_login_is_rate_limited_per_client_with_retry_after(gateway):
    answers = [
        httpx.post(gateway.url + "/api/v1/auth/login", json={}).status_code for _ in range(10)
    ]
    assert 429 in answers
    limited = httpx.post(gateway.url + "/api/v1/auth/login", json={})
    assert limited.status_code == 429
    assert limited.headers["retry-after"].isdigit()
    assert limited.json()["title"] == "Too Many Requests"
    # Other routes are not limited by the login zone.
    assert httpx.get(gateway.url + "/api/v1/users/me").status_code == 200


def test_register_is_rate_limited_per_client_with_retry_after(gateway):
    answers = [
        httpx.post(gateway.url + "/api/v1/auth/register", json={}).status_code for _ in range(10)
    ]
    assert 429 in answers
    limited = httpx.post(gateway.url + "/api/v1/auth/register", json={})
    assert limited.status_code == 429
    assert limited.headers["retry-after"].isdigit()
    assert limited.headers["content-type"] == "application/problem+json"
    # Other routes are not limited by the register zone.
    assert httpx.get(gateway.url + "/api/v1/auth/jwks").status_code == 200


def test_notes_are_rate_limited_per_client_with_retry_after(gateway):
    # One request at a time is slowed to 10 r/s at most, never refused.
    with httpx.Client(base_url=gateway.url) as client:
        assert all(client.get("/api/v1/notes/search").status_code == 200 for _ in range(30))
    # A flood past the burst (40 waiting) is cut.
    with (
        httpx.Client(base_url=gateway.url, limits=httpx.Limits(max_connections=100)) as client,
        ThreadPoolExecutor(100) as pool,
    ):
        answers = list(
            pool.map(lambda _: client.get("/api/v1/notes/search", params={"q": "x"}), range(200))
        )
    statuses = [a.status_code for a in answers]
    assert 200 in statuses and 429 in statuses, statuses
    limited = next(a for a in answers if a.status_code == 429)
    assert limited.headers["retry-after"].isdigit()
    assert limited.headers["content-type"] == "application/problem+json"
    # Other routes are not limited by the notes zone.
    assert httpx.get(gateway.url + "/api/v1/courses").status_code == 200


def test_a_service_that_is_down_gives_a_problem_503(tmp_path):
    gw = Gateway(
        run_dir=tmp_path,
        port=free_port(),
        upstreams={f"{name}_UPSTREAM": f"127.0.0.1:{free_port()}" for name in UPSTREAMS},
    )
    gw.start()
    try:
        answer = httpx.get(gw.url + "/api/v1/courses")
    finally:
        gw.stop()
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_service_with_two_replicas_gets_both_and_loses_none_when_one_is_gone(tmp_path):
    """EDVENT_REPLICAS: both processes answer, and once one refuses connections (killed)
    every request, a POST too, goes to the other."""
    first, second = echo_server("first"), echo_server("second")
    others = {name: echo_server(name) for name in UPSTREAMS if name != "CONTENT"}
    gw = Gateway(
        run_dir=tmp_path,
        port=free_port(),
        upstreams={
            "CONTENT_UPSTREAM": [
                f"127.0.0.1:{first.server_address[1]}",
                f"127.0.0.1:{second.server_address[1]}",
            ],
            **{f"{n}_UPSTREAM": f"127.0.0.1:{s.server_address[1]}" for n, s in others.items()},
        },
    )
    gw.start()
    try:
        both = {httpx.get(gw.url + "/api/v1/courses").json()["upstream"] for _ in range(6)}
        first.shutdown()
        first.server_close()
        after = [
            httpx.request(method, gw.url + "/api/v1/courses") for method in ("GET", "POST") * 5
        ]
    finally:
        gw.stop()
        second.shutdown()
        for server in others.values():
            server.shutdown()
    assert both == {"first", "second"}
    assert [(a.status_code, a.json()["upstream"]) for a in after] == [(200, "second")] * 10


# --- the web client ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def web_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    # Outside pytest's private (0700) temp dir: under root, nginx's workers run as nobody.
    root = Path(tempfile.mkdtemp(prefix="edvent-web-"))
    root.chmod(0o755)
    (root / "assets").mkdir(mode=0o755)
    (root / "index.html").write_text("<!doctype html><title>app</title>")
    (root / "assets" / "app-1a2b3c.js").write_text("console.log('app')")
    for path in (root / "index.html", root / "assets" / "app-1a2b3c.js"):
        path.chmod(0o644)
    server = echo_server("CONTENT")
    gw = Gateway(
        run_dir=Path(tmp_path_factory.mktemp("web-gateway")),
        port=free_port(),
        upstreams={
            f"{name}_UPSTREAM": f"127.0.0.1:{server.server_address[1]}" for name in UPSTREAMS
        },
        web_root=root,
    )
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()
        server.shutdown()
        shutil.rmtree(root)


@pytest.mark.parametrize("path", ["/", "/courses/123", "/lessons/abc?x=1", "/index.html"])
def test_the_web_client_answers_every_app_path_with_index_html(web_gateway, path):
    answer = httpx.get(web_gateway.url + path)
    assert answer.status_code == 200
    assert answer.text == "<!doctype html><title>app</title>"
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-cache"
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert_hardened(answer)
    assert answer.headers["x-request-id"]


def test_hashed_assets_are_cached_for_a_year_and_missing_ones_are_404(web_gateway):
    asset = httpx.get(web_gateway.url + "/assets/app-1a2b3c.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Browsers refuse module scripts served as anything but JavaScript.
    assert asset.headers["content-type"] == "application/javascript"
    assert_hardened(asset)
    missing = httpx.get(web_gateway.url + "/assets/gone-000000.js")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert_hardened(missing)


@pytest.mark.parametrize("path", ["/api/v2/users", "/api/v1/note", "/api/"])
def test_unknown_api_routes_stay_problem_404s_beside_the_web_client(web_gateway, path):
    answer = httpx.get(web_gateway.url + path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_the_api_is_still_proxied_beside_the_web_client(web_gateway):
    answer = httpx.get(web_gateway.url + "/api/v1/courses?limit=1")
    assert answer.json()["upstream"] == "CONTENT"
    assert_hardened(answer)


# --- browser hardening on every answer ----------------------------------------------------


def assert_hardened(answer: httpx.Response, *, img_src: str = "'self' data:") -> None:
    """nosniff, no referrer, and a CSP that runs only this origin's files and takes
    images only from `img_src` (never any https site)."""
    assert answer.headers.get_list("x-content-type-options") == ["nosniff"], answer.url
    assert answer.headers.get_list("referrer-policy") == ["no-referrer"], answer.url
    (policy,) = answer.headers.get_list("content-security-policy")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["script-src"] == ["'self'"], policy
    assert directives["img-src"] == img_src.split(), policy
    assert directives["frame-ancestors"] == ["'none'"], policy
    assert "content-disposition" not in answer.headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/api/v1/courses", 200),
        ("POST", "/api/v1/users/me", 200),
        ("GET", "/api/v2/users", 404),
        ("GET", "/", 404),
        ("TRACE", "/api/v2/users", 404),
    ],
)
def test_every_answer_carries_the_browser_hardening_headers(gateway, method, path, status):
    answer = httpx.request(method, gateway.url + path)
    assert answer.status_code == status
    assert_hardened(answer)


def test_the_gateways_own_413_and_503_answers_are_hardened_too(gateway, tmp_path):
    too_large = httpx.put(gateway.url + "/api/v1/lessons/1/content", content=b"x" * (7 << 20))
    assert too_large.status_code == 413
    assert_hardened(too_large)
    down = Gateway(
        run_dir=tmp_path,
        port=free_port(),
        upstreams={f"{name}_UPSTREAM": f"127.0.0.1:{free_port()}" for name in UPSTREAMS},
    )
    down.start()
    try:
        unavailable = httpx.get(down.url + "/api/v1/courses")
    finally:
        down.stop()
    assert unavailable.status_code == 503
    assert_hardened(unavailable)


def test_markdown_bodies_are_shown_inline_in_a_sandbox(gateway):
    answer = httpx.get(
        gateway.url + "/api/v1/lessons/1/content",
        headers={"x-echo-type": "text/markdown; charset=utf-8"},
    )
    assert answer.headers["content-type"].startswith("text/markdown")
    assert answer.headers.get_list("content-disposition") == ["inline"]
    assert answer.headers.get_list("x-content-type-options") == ["nosniff"]
    (policy,) = answer.headers.get_list("content-security-policy")
    directives = [d.strip() for d in policy.split(";")]
    assert "sandbox" in directives
    assert "default-src 'none'" in directives


def test_extra_image_origins_are_configurable_and_checked(tmp_path):
    server = echo_server("CONTENT")
    upstreams = {f"{name}_UPSTREAM": f"127.0.0.1:{server.server_address[1]}" for name in UPSTREAMS}
    extra = "https://images.example.com https://cdn.example.org"
    gw = Gateway(run_dir=tmp_path, port=free_port(), upstreams=upstreams, img_src_extra=extra)
    gw.start()
    try:
        answer = httpx.get(gw.url + "/api/v1/courses")
    finally:
        gw.stop()
        server.shutdown()
    assert_hardened(answer, img_src=f"'self' data: {extra}")
    # A value that would end the directive and add its own is refused at start.
    hostile = Gateway(
        run_dir=tmp_path / "hostile",
        port=free_port(),
        upstreams=upstreams,
        img_src_extra="https://x.example; script-src *",
    )
    with pytest.raises(StackError, match="GATEWAY_IMG_SRC_EXTRA"):
        hostile.write_config()


# --- the client address behind trusted proxies -------------------------------------------


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[object]:
    """`start_gateway(trusted_proxies=...)`: a gateway of its own (its own rate-limit
    state), login limited to one request and a burst of one per client."""
    started: list[Gateway] = []
    servers = {name: echo_server(name) for name in UPSTREAMS}

    def start(*, trusted_proxies: tuple[str, ...]) -> Gateway:
        gw = Gateway(
            run_dir=tmp_path / f"gw{len(started)}",
            port=free_port(),
            upstreams={
                f"{name}_UPSTREAM": f"127.0.0.1:{server.server_address[1]}"
                for name, server in servers.items()
            },
            login_rate="1r/m",
            login_burst=1,
            trusted_proxies=trusted_proxies,
        )
        gw.start()
        started.append(gw)
        return gw

    try:
        yield start
    finally:
        for gw in started:
            gw.stop()
        for server in servers.values():
            server.shutdown()


def logins_until_limited(gw: Gateway, client: str) -> int:
    for attempt in range(1, 6):
        answer = httpx.post(
            gw.url + "/api/v1/auth/login", json={}, headers={"X-Forwarded-For": client}
        )
        if answer.status_code == 429:
            return attempt
    return 0


def test_a_forwarded_for_from_an_untrusted_address_changes_nothing(start_gateway):
    gw = start_gateway(trusted_proxies=())
    seen = httpx.get(
        gw.url + "/api/v1/users/me", headers={"X-Forwarded-For": "203.0.113.9"}
    ).json()["headers"]
    assert seen["X-Real-IP"] == "127.0.0.1"
    assert seen["X-Forwarded-For"].split(", ")[-1] == "127.0.0.1"
    # Claiming another address does not buy another bucket.
    assert logins_until_limited(gw, "203.0.113.1") > 0
    assert logins_until_limited(gw, "203.0.113.2") == 1


def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(start_gateway):
    gw = start_gateway(trusted_proxies=("127.0.0.1/32",))
    seen = httpx.get(
        gw.url + "/api/v1/users/me", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
    ).json()["headers"]
    # The nearest address the trusted proxy names; what the client claimed before it
    # stays to its left, and the services read the rightmost entry.
    assert seen["X-Real-IP"] == "203.0.113.9"
    assert seen["X-Forwarded-For"].split(", ")[-1] == "203.0.113.9"
    assert logins_until_limited(gw, "203.0.113.1") > 1
    assert logins_until_limited(gw, "203.0.113.2") > 1
