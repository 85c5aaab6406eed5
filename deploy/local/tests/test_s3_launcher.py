"""The local S3: a real S3Proxy JVM, SigV4 enforced, objects kept on disk across restarts."""

import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from edvent_localstack.process import free_port
from edvent_localstack.s3 import S3Server, ensure_bucket

BUCKET = "edvent-lessons"


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (kernel hex form) of sockets listening on `port`, from /proc/net."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.rpartition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def _error_status(call: Callable[[], object]) -> int:
    """The HTTP status of the ClientError `call` raises.

    Not pytest.raises: its ExceptionInfo keeps the failed response, and through it an
    open socket, alive until the test ends (see the note before the restart).
    """
    try:
        call()
    except ClientError as exc:
        return int(exc.response["ResponseMetadata"]["HTTPStatusCode"])
    raise AssertionError("the call succeeded")


def _get(client: Any, key: str) -> tuple[dict[str, Any], bytes]:
    """GetObject's metadata and body, keeping no reference to the urllib3 response."""
    response = client.get_object(Bucket=BUCKET, Key=key)
    with response.pop("Body") as stream:
        return response, stream.read()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_objects_round_trip_and_survive_a_restart(tmp_path: Path) -> None:
    server = S3Server(data_dir=tmp_path / "s3", port=free_port(), log_file=tmp_path / "s3.log")
    server.start()
    pid = server.pid
    assert pid is not None
    try:
        # 127.0.0.1 only: plain IPv4 or IPv4-mapped IPv6 (Java listens on a v6 socket).
        listening = _listening_addresses(server.port)
        assert listening
        assert listening <= {"0100007F", "0000000000000000FFFF00000100007F"}

        for _ in range(2):  # idempotent
            ensure_bucket(
                endpoint_url=server.endpoint_url,
                access_key=server.access_key,
                secret_key=server.secret_key,
                region=server.region,
                bucket=BUCKET,
            )
        client = server.client()
        # 5 MiB, with the CRC32 checksum header botocore adds by default (S3Proxy < 4: 501).
        body = os.urandom(5 * 1024 * 1024)
        put = client.put_object(
            Bucket=BUCKET, Key="lessons/1/notes.bin", Body=body, ContentType="application/pdf"
        )
        assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'  # noqa: S324 - S3's ETag
        got, data = _get(client, "lessons/1/notes.bin")
        assert got["ContentLength"] == len(body)
        assert got["ContentType"] == "application/pdf"
        assert data == body

        absent = functools.partial(client.head_object, Bucket=BUCKET, Key="lessons/1/absent.bin")
        assert _error_status(absent) == 404

        # Jetty's graceful stop waits 2 s while a keep-alive socket is open. client.close()
        # only drops the urllib3 pools (urllib3 2.x); their sockets close once nothing,
        # such as a live response object, refers to the pool any more.
        client.close()
        server.stop()
        assert server.pid is None
        assert not _pid_alive(pid)

        server.port = free_port()  # a new port too: nothing may depend on the old one
        server.start()
        pid = server.pid
        assert pid is not None
        client = server.client()
        assert [b["Name"] for b in client.list_buckets()["Buckets"]] == [BUCKET]
        head = client.head_object(Bucket=BUCKET, Key="lessons/1/notes.bin")
        assert head["ETag"] == put["ETag"]
        assert head["ContentType"] == "application/pdf"
        assert _get(client, "lessons/1/notes.bin")[1] == body
        client.close()
    finally:
        server.stop()
    assert server.pid is None
    assert not _pid_alive(pid)


def test_wrong_secret_is_refused(tmp_path: Path) -> None:
    server = S3Server(data_dir=tmp_path / "s3", port=free_port(), log_file=tmp_path / "s3.log")
    server.start()
    try:
        impostor = S3Server(
            data_dir=server.data_dir,
            port=server.port,
            log_file=server.log_file,
            secret_key="not-the-secret",
        )
        assert _error_status(impostor.client().list_buckets) == 403
    finally:
        server.stop()
