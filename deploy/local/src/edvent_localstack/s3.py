"""The local S3: S3Proxy (a Java S3 server) on its filesystem store.

Objects are plain files under `<data_dir>/buckets/<bucket>/<key>`, their metadata
(Content-Type, user metadata, ETag) in user xattrs, so they survive restarts and can be
inspected with ordinary tools. AWS Signature V4 is enforced with one fixed key pair:
clients that forget to sign, or sign with the wrong secret, fail here as on AWS.

S3Proxy 4.x is pinned (see deploy/local/s3proxy/pom.xml) because 2.x/3.x answer 501
NotImplemented to the flexible-checksum headers boto3 >= 1.36 sends by default on every
PutObject/UploadPart. 4.1.0 accepts and verifies them (and explicit ChecksumAlgorithm
SHA256/CRC32), so `client()` keeps botocore's default checksum settings and service code
needs no `request_checksum_calculation="when_required"` workaround.

Stopping takes ~2 s instead of ~0.2 s while any client still holds a keep-alive
connection: Jetty's graceful shutdown waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from edvent_localstack.jvm import JARS_DIR, ensure_jars, java
from edvent_localstack.process import (
    LOCAL_DIR,
    ManagedProcess,
    StackError,
    ensure_port_free,
    log_tail,
    wait_for_port,
)

if TYPE_CHECKING:
    # Typed when `types-boto3[s3]` is installed; mypy sees Any otherwise.
    from types_boto3_s3.client import S3Client

S3PROXY_POM = LOCAL_DIR / "s3proxy" / "pom.xml"
S3PROXY_JARS_DIR = JARS_DIR / "s3proxy"
S3PROXY_MAIN = "org.gaul.s3proxy.Main"

# Measured: ~130 MB RSS idle, ~160 MB after a burst of 5 MiB objects, up in ~0.6 s.
# A bigger heap would only postpone GC; SerialGC and C1-only JIT cut start time and
# footprint for a server that never sees production load.
JVM_OPTIONS = (
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xss512k",
)


def ensure_s3proxy_jars() -> Path:
    """S3Proxy's self-contained jar, copied from Maven once (see `jvm.ensure_jars`)."""
    return ensure_jars("s3proxy", S3PROXY_POM, main_jar="s3proxy-*.jar")


def s3_client(
    *,
    endpoint_url: str,
    access_key: str,
    secret_key: str,
    region: str,
    config: Config | None = None,
) -> S3Client:
    """A boto3 S3 client for a local S3 server: SigV4, path-style addressing.

    botocore's default checksum behaviour (`when_supported`) is kept on purpose: S3Proxy
    4.x handles it, and services should run against the same client settings as on AWS.
    """
    base = Config(
        signature_version="s3v4",
        # Path style: `<bucket>.127.0.0.1` is not a host name that resolves.
        s3={"addressing_style": "path"},
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=base.merge(config) if config is not None else base,
    )


def ensure_bucket(
    *, endpoint_url: str, access_key: str, secret_key: str, region: str, bucket: str
) -> None:
    """Create `bucket` unless it exists; safe to call on every start."""
    client = s3_client(
        endpoint_url=endpoint_url, access_key=access_key, secret_key=secret_key, region=region
    )
    kwargs: dict[str, object] = {"Bucket": bucket}
    if region != "us-east-1":
        # S3 rejects a LocationConstraint of us-east-1 but requires it everywhere else.
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**kwargs)  # type: ignore[arg-type]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise StackError(f"cannot create bucket {bucket!r} at {endpoint_url}: {exc}") from exc
    finally:
        # Its keep-alive socket would otherwise linger until GC and slow the server's stop.
        client.close()


@dataclass
class S3Server:
    data_dir: Path
    port: int
    log_file: Path
    access_key: str = "edvent"
    secret_key: str = "edvent-secret-key"  # noqa: S105 - local stack and tests only
    region: str = "us-east-1"
    _process: ManagedProcess | None = field(default=None, init=False, repr=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def buckets_dir(self) -> Path:
        return self.data_dir / "buckets"

    @property
    def conf_file(self) -> Path:
        return self.data_dir / "s3proxy.conf"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process and self._process.running() else None

    def client(self, config: Config | None = None) -> S3Client:
        return s3_client(
            endpoint_url=self.endpoint_url,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
            config=config,
        )

    def _write_conf(self) -> None:
        # Regenerated on every start so a changed port or key pair always takes effect.
        lines = {
            # Jetty binds exactly this host: loopback only, never 0.0.0.0.
            "s3proxy.endpoint": self.endpoint_url,
            "s3proxy.authorization": "aws-v4",
            "s3proxy.identity": self.access_key,
            "s3proxy.credential": self.secret_key,
            "jclouds.provider": "filesystem-nio2",
            "jclouds.filesystem.basedir": str(self.buckets_dir),
            "jclouds.region": self.region,
        }
        text = "".join(f"{key}={_escape(value)}\n" for key, value in lines.items())
        self.conf_file.write_text(text)
        # It holds the secret key.
        self.conf_file.chmod(0o600)

    def start(self, timeout: float = 60) -> None:
        ensure_port_free(self.port, "S3 (S3Proxy)")
        jars = ensure_s3proxy_jars()
        self.buckets_dir.mkdir(parents=True, exist_ok=True)
        self._write_conf()
        argv = [
            java(),
            *JVM_OPTIONS,
            "-cp",
            f"{jars}/*",
            S3PROXY_MAIN,
            "--properties",
            str(self.conf_file),
        ]
        self._process = ManagedProcess("S3Proxy", argv, self.log_file, cwd=self.data_dir)
        self._process.start()
        # A signed request rather than an open port: it proves that the conf was read,
        # the store opened and our key pair is the one the server checks.
        client = self.client(
            # Fail fast and let wait_ready do the retrying (and notice a dead JVM).
            Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1})
        )

        def ready() -> bool:
            # Port first: after refused connects inside botocore, the socket of the final,
            # successful probe outlived client.close() until a GC ran, and one open socket
            # delays Jetty's stop by 2 s.
            if not wait_for_port(self.port, timeout=0.2):
                return False
            client.list_buckets()
            return True

        try:
            self._process.wait_ready(ready, timeout=timeout)
        except StackError as exc:
            self._process.stop()
            if "UnsupportedClassVersionError" in log_tail(self.log_file, 200):
                raise StackError(
                    f"S3Proxy needs Java 17 or newer; {argv[0]} is older "
                    "(set JAVA_HOME to a newer JDK)"
                ) from exc
            raise
        finally:
            # urllib3 2.x drops (does not close) pooled sockets here; they close as soon as
            # nothing refers to the pool, which matters because of Jetty's 2 s wait.
            client.close()

    def running(self) -> bool:
        return self._process is not None and self._process.running()

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()


def _escape(value: str) -> str:
    """Escape a value for java.util.Properties (backslashes, leading blanks, newlines)."""
    escaped = value.replace("\\", "\\\\").replace("\n", "\\n")
    return "\\" + escaped if escaped.startswith(" ") else escaped
