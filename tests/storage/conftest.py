"""A real S3-compatible server (moto's server mode) on 127.0.0.1, and media settings pointing at it."""

from __future__ import annotations

import socket
import uuid

import boto3
import pytest

from tests.batches.conftest import add_frame  # noqa: F401 (a fixture the render test uses)
from timelapser import envparse

# Made-up keys: moto accepts any. The tests check neither ever reaches a log,
# an attempt row or a response.
KEY_ID = "AKIATESTKEYID0000042"
SECRET = "s3cr3t-Sh0uld-N3ver-Appear-In-Logs-0000"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


class Bucket:
    def __init__(self, endpoint: str, name: str, prefix: str) -> None:
        self.name, self.prefix = name, prefix
        self.client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        self.client.create_bucket(Bucket=name)

    def listing(self) -> list[str]:
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name):
            found += [item["Key"] for item in page.get("Contents", [])]
        return sorted(found)

    def put(self, relative: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=f"{self.prefix}/{relative}", Body=body)

    def get(self, relative: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=f"{self.prefix}/{relative}")["Body"].read()


@pytest.fixture
def s3_media(s3_server, settings, data_dir, monkeypatch):
    """TIMELAPSER_MEDIA_URL=s3://<fresh bucket>/site against the local server, keys in the usual variables."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = Bucket(s3_server, f"media-{uuid.uuid4().hex[:12]}", "site")
    storage, _origins = envparse.media_storage(f"s3://{bucket.name}/{bucket.prefix}", s3_server)
    settings.STORAGES = {**settings.STORAGES, "media": storage}
    return bucket
