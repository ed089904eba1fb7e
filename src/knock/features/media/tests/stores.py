"""Both media stores for the media and burn tests: local disk, and S3 as spoken by a real
S3 API server (moto's server mode on 127.0.0.1, started once per test session).

A tests folder's conftest.py imports the fixtures; a test module then asks for
``media_url`` in its ``settings_overrides``, and each of its tests runs on both stores.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "knock-test",
    "AWS_SECRET_ACCESS_KEY": "knock-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(params=["local", "s3"])
def media_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Empty (the local store under the data directory), or ``s3://<fresh bucket>/media``
    with the AWS variables pointing boto3 at the test's S3 server."""
    if request.param == "local":
        return ""
    endpoint: str = request.getfixturevalue("s3_endpoint")
    for name, value in {**AWS_ENV, "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(name, value)
    bucket = f"knock-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/media"


def stored_files(app: Any) -> dict[str, bytes]:
    """Every file the app's media store holds, by key: the bucket's objects, or the files
    under the local media directory (scratch space aside)."""
    settings = app.state.node.settings
    if settings.media_url.startswith("s3://"):
        bucket, prefix = settings.media_url[len("s3://") :].split("/", 1)
        client = boto3.client("s3")
        listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {
            o["Key"].removeprefix(prefix + "/"): client.get_object(Bucket=bucket, Key=o["Key"])[
                "Body"
            ].read()
            for o in listed
        }
    root: Path = settings.data_dir / "media"
    return {
        p.name: p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and root / "tmp" not in p.parents
    }
