"""Video bytes through the share: Range, conditional requests, offload, and the data-dir fence."""

from __future__ import annotations

import pytest

from batches.models import TimelapseBatch
from tests.factories import make_share

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(make_video_batch, data_dir):
    batch = make_video_batch()
    share = make_share([batch], download_enabled=True)
    link = share.share_batches.get()
    body = (data_dir / batch.output_path).read_bytes()
    return share, link, batch, body, f"/share/{share.token}/video/{link.pk}.mp4"


def content(response) -> bytes:
    return b"".join(response.streaming_content)


def test_full_get_advertises_ranges_and_validators(client, shared):
    _, _, _, body, url = shared

    response = client.get(url)

    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(body))
    assert response["ETag"].startswith('"')
    assert "GMT" in response["Last-Modified"]
    assert content(response) == body


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-1", 0, 1),
        ("bytes=100-", 100, None),
        ("bytes=-500", -500, None),
        ("bytes=10-999999999", 10, None),
    ],
)
def test_byte_ranges_answer_206_with_content_range(client, shared, header, start, end):
    _, _, _, body, url = shared
    size = len(body)
    expected = body[start:] if end is None else body[start : end + 1]
    first = start if start >= 0 else size + start
    last = first + len(expected) - 1

    response = client.get(url, HTTP_RANGE=header)

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert response["Content-Length"] == str(len(expected))
    assert content(response) == expected


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=-0"])
def test_unsatisfiable_range_is_416_with_the_size(client, shared, header):
    _, _, _, body, url = shared

    response = client.get(url, HTTP_RANGE=header)

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(body)}"


def test_malformed_or_multiple_ranges_get_the_whole_file(client, shared):
    _, _, _, body, url = shared

    for header in ["bytes=a-b", "bytes=0-1,5-9", "items=0-1", "bytes=5-1"]:
        response = client.get(url, HTTP_RANGE=header)
        assert response.status_code == 200, header
        assert content(response) == body


def test_conditional_requests_get_304(client, shared):
    _, _, _, _, url = shared
    first = client.get(url)

    by_etag = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    by_date = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    stale = client.get(url, HTTP_IF_NONE_MATCH='"other"')

    assert by_etag.status_code == 304
    assert by_date.status_code == 304
    assert stale.status_code == 200


def test_if_range_with_a_stale_etag_sends_the_whole_file(client, shared):
    _, _, _, body, url = shared
    etag = client.get(url)["ETag"]

    current = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    stale = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old"')

    assert current.status_code == 206
    assert stale.status_code == 200
    assert content(stale) == body


def test_head_sends_headers_without_body(client, shared):
    url = shared[-1]

    response = client.head(url, HTTP_RANGE="bytes=0-9")

    assert response.status_code == 206
    assert response["Content-Length"] == "10"
    assert content(response) == b""


@pytest.mark.parametrize(
    "bad_path", ["../outside.mp4", "/etc/passwd", "videos/../../outside.mp4", "", "videos"]
)
def test_paths_outside_the_data_dir_are_refused(client, shared, data_dir, bad_path):
    share, _, batch, _, url = shared
    (data_dir.parent / "outside.mp4").write_bytes(b"secret")
    TimelapseBatch.objects.filter(pk=batch.pk).update(published_path=bad_path)

    assert client.get(url).status_code == 404
    assert client.get(f"/share/{share.token}/download").status_code == 404


def test_a_symlink_out_of_the_data_dir_is_refused(client, shared, data_dir):
    _, _, batch, _, url = shared
    (data_dir.parent / "outside.mp4").write_bytes(b"secret")
    link = data_dir / "videos" / "escape.mp4"
    link.symlink_to(data_dir.parent / "outside.mp4")
    TimelapseBatch.objects.filter(pk=batch.pk).update(published_path="videos/escape.mp4")

    assert client.get(url).status_code == 404


def test_x_accel_redirect_hands_the_file_to_nginx(client, shared, settings):
    _, _, batch, _, url = shared
    settings.SHARING_FILE_OFFLOAD = "x-accel-redirect"
    settings.SHARING_ACCEL_REDIRECT_PREFIX = "/protected/"

    response = client.get(url)

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/protected/" + batch.output_path
    assert response.content == b""


def test_x_sendfile_names_the_absolute_path(client, shared, settings, data_dir):
    _, _, batch, _, url = shared
    settings.SHARING_FILE_OFFLOAD = "x-sendfile"

    response = client.get(url)

    assert response["X-Sendfile"] == str((data_dir / batch.output_path).resolve())


def test_poster_is_a_jpeg_of_the_first_frame(client, shared):
    share, link, _, _, _ = shared

    response = client.get(f"/share/{share.token}/poster/{link.pk}.jpg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert content(response)[:2] == b"\xff\xd8"
