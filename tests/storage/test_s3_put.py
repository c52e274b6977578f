"""The capture path's lean PUT (common.s3put): what reaches the bucket, and when botocore takes over."""

from __future__ import annotations

import hashlib
import http.server
import logging
import threading

import pytest
from django.core.files.storage import storages

from common import mediastore, s3put
from common.paths import media_key
from timelapser import envparse

pytestmark = pytest.mark.django_db


def _botocore_puts(calls: list):
    client = storages["media"].connection.meta.client
    client.meta.events.register("before-call.s3.PutObject", lambda **kw: calls.append(1), unique_id="count")
    return client


def test_an_image_goes_up_signed_with_its_type_and_without_botocore(s3_media):
    body = b"\xff\xd8\xff" + bytes(range(256)) * 40
    calls: list = []
    client = _botocore_puts(calls)
    try:
        for n in range(3):  # the second and third reuse this thread's putter
            mediastore.put(media_key(f"images/1/2026/05/01/{n}.jpg"), body, "image/jpeg")
    finally:
        client.meta.events.unregister("before-call.s3.PutObject", unique_id="count")

    assert calls == []
    head = s3_media.client.head_object(Bucket=s3_media.name, Key="site/images/1/2026/05/01/2.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert s3_media.get("images/1/2026/05/01/2.jpg") == body


def test_a_key_with_spaces_and_unicode_lands_under_that_exact_key(s3_media):
    mediastore.put(media_key("branding/shares/7/logo été 1.png"), b"png", "image/png")
    assert s3_media.listing() == ["site/branding/shares/7/logo été 1.png"]


class _PickyBucket(http.server.BaseHTTPRequestHandler):
    """An S3-compatible server that answers 400 to a PUT without `Expect: 100-continue`
    (which botocore sends and the lean PUT does not), and keeps what it accepts."""

    protocol_version = "HTTP/1.1"
    stored: dict[str, bytes] = {}  # reset by the fixture
    refused: list[str] = []

    def do_PUT(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if "Expect" not in self.headers:
            self.refused.append(self.path)
            reply = b"<Error><Code>InvalidRequest</Code></Error>"
            self.send_response(400)
        else:
            self.stored[self.path] = body
            reply = b""
            self.send_response(200)
            self.send_header("ETag", f'"{hashlib.md5(body).hexdigest()}"')
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


@pytest.fixture
def picky_bucket(settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPICKY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "picky-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    _PickyBucket.stored, _PickyBucket.refused = {}, []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PickyBucket)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    storage, _ = envparse.media_storage("s3://picky/site", endpoint)
    settings.STORAGES = {**settings.STORAGES, "media": storage}
    yield _PickyBucket
    server.shutdown()
    server.server_close()


def test_a_refused_lean_put_is_done_by_botocore_and_the_lean_path_stops(picky_bucket, caplog):
    caplog.set_level(logging.WARNING)

    mediastore.put(media_key("images/1/a.jpg"), b"first", "image/jpeg")
    mediastore.put(media_key("images/1/b.jpg"), b"second", "image/jpeg")

    assert picky_bucket.stored == {
        "/picky/site/images/1/a.jpg": b"first",
        "/picky/site/images/1/b.jpg": b"second",
    }
    assert picky_bucket.refused == ["/picky/site/images/1/a.jpg"], "tried once, then botocore only"
    assert "lean PUT was refused (HTTP 400)" in caplog.text
    assert s3put.putter(storages["media"]) is None
    assert "picky-secret" not in caplog.text


def test_a_proxy_leaves_the_put_to_botocore(s3_media, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "")
    storage = storages["media"]

    assert s3put.putter(storage) is None
