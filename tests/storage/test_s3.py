"""Media in an S3-compatible bucket, against moto's real server on 127.0.0.1 (no boto3 mock)."""

from __future__ import annotations

import logging
import shutil

import httpx
import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages

from captures import ingest
from captures.fakecamera import FakeCamera
from captures.models import CaptureAttempt
from common import mediastore
from common.paths import UnsafePath, media_key, remove_media_files
from tests.factories import make_batch, make_camera, make_image, make_share
from tests.storage.conftest import KEY_ID, SECRET
from timelapser import envparse

pytestmark = pytest.mark.django_db


@pytest.fixture
def camera(settings, data_dir):
    from cameras.services import add_camera

    settings.TIMELAPSER_SECRETS_KEYS = [Fernet.generate_key().decode()]
    with FakeCamera() as server:
        yield add_camera("front", server.url())


def test_setting_parses_bucket_prefix_and_player_origin():
    storage, origins = envparse.media_storage("s3://shots/site/a", "http://127.0.0.1:9000")
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "shots"
    assert storage["OPTIONS"]["location"] == "site/a"
    assert origins == ["http://127.0.0.1:9000"]
    assert envparse.media_storage("", "") == (None, [])
    for bad in ("http://shots/x", "s3:///x", "/srv/media"):
        with pytest.raises(ImproperlyConfigured):
            envparse.media_storage(bad, "")


def test_ingest_writes_the_image_to_the_bucket_not_the_disk(s3_media, camera, data_dir):
    outcome = ingest.capture(camera)

    assert outcome.ok, outcome.reason
    assert s3_media.listing() == [f"site/{outcome.image.file_path}"]
    assert s3_media.get(outcome.image.file_path)[:3] == b"\xff\xd8\xff"
    assert len(s3_media.get(outcome.image.file_path)) == outcome.image.file_size_bytes
    assert not (data_dir / "images").exists()


def test_bucket_failure_is_an_attempt_row_and_never_shows_the_keys(s3_media, camera, settings, caplog):
    caplog.set_level(logging.DEBUG)
    options = {**settings.STORAGES["media"]["OPTIONS"], "bucket_name": "no-such-bucket-here"}
    settings.STORAGES = {**settings.STORAGES, "media": {**settings.STORAGES["media"], "OPTIONS": options}}

    outcome = ingest.capture(camera)

    assert not outcome.ok
    attempt = CaptureAttempt.objects.get(camera=camera)
    assert "NoSuchBucket" in attempt.error_message
    for text in (attempt.error_message, caplog.text):
        assert SECRET not in text and KEY_ID not in text


@pytest.fixture
def shared_video(s3_media, data_dir, tmp_path):
    """A completed batch whose published MP4 is only in the bucket, and its share."""
    import subprocess

    import imageio_ffmpeg

    local = tmp_path / "v.mp4"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10",
         "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(local)],
        check=True, timeout=60,
    )  # fmt: skip
    camera = make_camera()
    batch = make_batch(camera, [make_image(camera)])
    relative = f"videos/{camera.pk}/batch_{batch.pk}.mp4"
    body = local.read_bytes()
    s3_media.put(relative, body)
    type(batch).objects.filter(pk=batch.pk).update(
        status="completed", output_path=relative, published_path=relative, published_size_bytes=len(body)
    )
    share = make_share([batch], download_enabled=True)
    link = share.share_batches.get()
    return f"/share/{share.token}/video/{link.pk}.mp4", body, share, link


def test_share_video_redirects_to_a_presigned_url_that_serves_ranges(client, shared_video, settings):
    settings.SHARING_MEDIA_RATE_LIMIT = "10000/m"
    url, body, _, _ = shared_video

    response = client.get(url)

    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    location = response["Location"]
    assert "Signature=" in location and SECRET not in location
    ranged = httpx.get(location, headers={"Range": "bytes=10-109"}, timeout=30)
    assert ranged.status_code == 206
    assert ranged.content == body[10:110]
    assert ranged.headers["Content-Range"] == f"bytes 10-109/{len(body)}"
    assert httpx.get(location, timeout=30).content == body
    assert client.head(url).status_code == 302


def test_share_download_is_named_and_a_missing_object_is_404(client, shared_video, s3_media):
    url, _, share, link = shared_video

    response = client.get(f"/share/{share.token}/download/{link.pk}")
    assert response.status_code == 302
    got = httpx.get(response["Location"], timeout=30)
    assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"]

    s3_media.client.delete_object(Bucket=s3_media.name, Key=f"site/{link.timelapse_batch.published_path}")
    assert client.get(url).status_code == 404


def test_cleanup_deletes_in_batches_of_1000(s3_media):
    relatives = [f"images/1/2026/05/01/{i:05d}.jpg" for i in range(2300)]
    for relative in relatives[:5]:
        s3_media.put(relative, b"x")
    # The rest are put through one call each is slow on a busy machine; the batch size is what counts.
    for relative in relatives[5:]:
        s3_media.put(relative, b"")
    calls = []
    client = storages["media"].connection.meta.client
    client.meta.events.register(
        "before-call.s3.DeleteObjects", lambda params, **kw: calls.append(len(params["body"])), unique_id="t"
    )
    try:
        removed = remove_media_files(relatives)
    finally:
        client.meta.events.unregister("before-call.s3.DeleteObjects", unique_id="t")

    assert removed == 2300
    assert len(calls) == 3
    assert s3_media.listing() == []


@pytest.mark.parametrize(
    "stored",
    ["../secret_key", "images", "images/../timelapser.sqlite3", "/etc/passwd", "keys/x", "images/\x00x"],
)
def test_guard_refuses_keys_outside_the_media_folders(s3_media, stored, caplog):
    s3_media.client.put_object(Bucket=s3_media.name, Key="site/secret_key", Body=b"k")
    s3_media.client.put_object(Bucket=s3_media.name, Key="site/timelapser.sqlite3", Body=b"db")

    with pytest.raises(UnsafePath):
        media_key(stored)
    assert remove_media_files([stored]) == 0
    assert "refusing to delete" in caplog.text
    assert s3_media.listing() == ["site/secret_key", "site/timelapser.sqlite3"]


def test_the_store_takes_only_keys_from_the_guard(s3_media):
    with pytest.raises(TypeError):
        mediastore.put("../secret_key", b"x")
    with pytest.raises(TypeError):
        mediastore.presigned_url("images/../../x")
    assert media_key("images/1/../2/a.jpg") == "images/2/a.jpg"


def test_share_with_a_hostile_published_path_is_404(client, shared_video, s3_media):
    url, _, _, link = shared_video
    s3_media.client.put_object(Bucket=s3_media.name, Key="site/secret_key", Body=b"k")
    type(link.timelapse_batch).objects.filter(pk=link.timelapse_batch_id).update(
        published_path="videos/../secret_key"
    )
    assert client.get(url).status_code == 404


def test_local_folder_stays_the_default(data_dir, settings):
    assert "media" not in settings.STORAGES
    assert not mediastore.remote()
    target = data_dir / "images" / "a.jpg"
    target.parent.mkdir()
    target.write_bytes(b"x")
    assert remove_media_files(["images/a.jpg"]) == 1
    shutil.rmtree(data_dir / "images")


def test_gallery_thumbnail_is_made_from_the_bucket_and_full_frames_redirect(client, s3_media, data_dir):
    import io

    from PIL import Image as PILImage

    from sharing.models import Share

    buffer = io.BytesIO()
    PILImage.new("RGB", (640, 480), (200, 30, 30)).save(buffer, "JPEG")
    body = buffer.getvalue()
    camera = make_camera()
    image = make_image(camera, file_size_bytes=len(body), file_hash="ab" * 32)
    s3_media.put(image.file_path, body)
    share = make_share([make_batch(camera, [image])], share_type=Share.ShareType.GALLERY)

    thumb = client.get(f"/share/{share.token}/frame/{image.pk}/thumb.jpg")
    assert thumb.status_code == 200
    with PILImage.open(io.BytesIO(b"".join(thumb.streaming_content))) as picture:
        assert picture.width == 320
    assert not list((data_dir / "cache").rglob("*.src")), "the downloaded source is not kept"

    full = client.get(f"/share/{share.token}/frame/{image.pk}.jpg")
    assert full.status_code == 302
    assert httpx.get(full["Location"], timeout=30).content == body


def test_share_poster_is_read_from_the_bucket(client, shared_video):
    _, _, share, link = shared_video

    response = client.get(f"/share/{share.token}/poster/{link.pk}.jpg")

    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"


def test_api_latest_jpg_is_read_from_the_bucket(s3_media, camera, client, django_user_model, settings):
    from api import tokens

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    _, raw = tokens.issue(user, "test", "read")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(f"/api/v1/cameras/{camera.pk}/latest.jpg", headers=headers).status_code == 404

    outcome = ingest.capture(camera)
    response = client.get(f"/api/v1/cameras/{camera.pk}/latest.jpg", headers=headers)

    assert response.status_code == 200
    assert response.content == s3_media.get(outcome.image.file_path)
