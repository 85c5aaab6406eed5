"""The local S3: a real S3Proxy JVM, SigV4 enforced, objects kept on disk across restarts."""

import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_objects_round_trip_and_survive_a_restart(tmp_path):
    server = S3Server(data_dir=tmp_path / "s3", port=free_port(), log_file=tmp_path / "s3.log")
    server.start()
    pid = server.pid
    assert pid is not None
    try:
        # 127.0.0.1 only: plain IPv4 or IPv4-mapped IPv6 (Java listens on a v6 socket).
        assert _listening_addresses(server.port) <= {
            "0100007F",
            "0000000000000000FFFF00000100007F",
        }
        assert _listening_addresses(server.port)

        for _ in range(2):  # idempotent
            ensure_bucket(
                endpoint_url=server.endpoint_url,
                access_key=server.access_key,
                secret_key=server.secret_key,
                region=server.region,
                bucket=BUCKET,
            )
        client = server.client()
        # 5 MiB: the streamed, checksum-trailed body spans many aws-chunked chunks.
        body = os.urandom(5 * 1024 * 1024)
        put = client.put_object(
            Bucket=BUCKET, Key="lessons/1/notes.bin", Body=body, ContentType="application/pdf"
        )
        assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'  # noqa: S324 - S3's ETag
        got = client.get_object(Bucket=BUCKET, Key="lessons/1/notes.bin")
        assert got["ContentLength"] == len(body)
        assert got["ContentType"] == "application/pdf"
        with got["Body"] as stream:
            assert stream.read() == body

        absent = functools.partial(client.head_object, Bucket=BUCKET, Key="lessons/1/absent.bin")
        assert _error_status(absent) == 404

        # Jetty's graceful stop waits 2 s while a keep-alive socket is open. client.close()
        # only drops the urllib3 pools (urllib3 2.8); their sockets close once nothing,
        # such as a response object, refers to the pool any more.
        del got
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
        with client.get_object(Bucket=BUCKET, Key="lessons/1/notes.bin")["Body"] as stream:
            assert stream.read() == body
        client.close()
    finally:
        server.stop()
    assert server.pid is None
    assert not _pid_alive(pid)


def test_wrong_secret_is_refused(tmp_path):
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
