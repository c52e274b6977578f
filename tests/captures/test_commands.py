"""The operator commands: addcamera, capture, importimages, rotatesecrets."""

from __future__ import annotations

import io
import os
from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command

from cameras.models import Camera
from captures.models import CaptureAttempt, Image

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_addcamera_prints_only_the_new_id(camera_server, monkeypatch):
    monkeypatch.setenv("CAM_PASSWORD", "pw-123")
    out = run(
        "addcamera",
        "front",
        camera_server.url(),
        "--interval",
        "15",
        "--day-counter-start",
        "2026-01-05",
        "--rotation",
        "left",
        "--overlay-position",
        "bottom-left",
        "--username",
        "viewer",
        "--password-env",
        "CAM_PASSWORD",
    )
    camera = Camera.objects.get(name="front")
    assert out.strip() == str(camera.pk)
    assert camera.capture_interval_seconds == 15 and camera.rotation == "left"
    assert camera.day_counter_enabled and camera.day_counter_start_date == date(2026, 1, 5)
    assert camera.day_overlay_position == "bottom-left"
    assert camera.encryption_key_ref.startswith("secrets:")
    assert camera.periodic_task is not None and camera.periodic_task.enabled


def test_addcamera_twice_with_the_same_url_is_a_clear_error(camera_server):
    run("addcamera", "one", camera_server.url())
    # Same camera, spelled differently (upper-case scheme and host).
    url = camera_server.url().replace("http://127.0.0.1", "HTTP://127.0.0.1")
    with pytest.raises(CommandError, match="already used by camera 'one'") as excinfo:
        run("addcamera", "two", url)
    assert "127.0.0.1" not in str(excinfo.value)
    assert Camera.objects.count() == 1


def test_addcamera_with_env_url(camera_server, monkeypatch):
    monkeypatch.setenv("FRONT_CAM_URL", camera_server.url())
    run("addcamera", "envcam", "env:FRONT_CAM_URL")
    camera = Camera.objects.get(name="envcam")
    assert camera.encryption_key_ref == "env:FRONT_CAM_URL"
    assert run("capture", "envcam").startswith("ok image")


def test_capture_command_exit_status_and_reason(camera_server):
    run("addcamera", "good", camera_server.url())
    run("addcamera", "bad", camera_server.url("/html"))
    assert run("capture", "good", "--count", "2").count("ok image") == 2
    assert Image.objects.filter(camera__name="good").count() == 2
    with pytest.raises(CommandError) as excinfo:
        run("capture", "bad")
    assert excinfo.value.returncode == 1
    assert CaptureAttempt.objects.get(camera__name="bad").status == "failed"


def test_importimages_uses_exif_then_mtime(tmp_path, data_dir):
    from PIL import Image as PILImage

    from captures.fakecamera import make_frames

    Camera.objects.create(name="old", url_hash="2" * 64, rotation="left")
    source = tmp_path / "old"
    source.mkdir()
    frames = make_frames(3)
    with PILImage.open(io.BytesIO(frames[0])) as frame:
        exif = PILImage.Exif()
        exif[0x8769] = {0x9003: "2024:06:01 08:30:00"}  # DateTimeOriginal in the Exif IFD
        frame.save(source / "a.jpg", "JPEG", exif=exif)
    (source / "b.jpg").write_bytes(frames[1])
    os.utime(source / "b.jpg", (1_700_000_000, 1_700_000_000))
    (source / "notes.jpg").write_bytes(b"<html>not an image</html>")
    err = io.StringIO()
    out = io.StringIO()
    call_command("importimages", "old", str(source), stdout=out, stderr=err)
    assert "Imported 2 image(s); skipped 0 already imported; 1 failed." in out.getvalue()
    assert "notes.jpg" in err.getvalue() and "HTML" in err.getvalue()
    a, b = (
        Image.objects.get(processing_metadata__imported_from="a.jpg"),
        Image.objects.get(processing_metadata__imported_from="b.jpg"),
    )
    assert a.captured_at == datetime(2024, 6, 1, 8, 30, tzinfo=UTC)
    assert b.captured_at == datetime.fromtimestamp(1_700_000_000, UTC)
    assert (data_dir / a.file_path).exists()
    # Running it again imports nothing twice.
    out = io.StringIO()
    call_command("importimages", "old", str(source), stdout=out, stderr=io.StringIO())
    assert "Imported 0 image(s); skipped 2 already imported; 1 failed." in out.getvalue()


def test_rotatesecrets_reencrypts_under_the_newest_key(camera_server, settings, data_dir):
    from cryptography.fernet import Fernet

    from cameras import secrets

    run("addcamera", "rot", camera_server.url())
    old_key = settings.TIMELAPSER_SECRETS_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.TIMELAPSER_SECRETS_KEYS = [new_key, old_key]
    assert "Re-encrypted 1 camera secret(s)" in run("rotatesecrets")
    settings.TIMELAPSER_SECRETS_KEYS = [new_key]
    camera = Camera.objects.get(name="rot")
    assert secrets.load_secret(camera.encryption_key_ref).url == camera_server.url()
    assert oct((data_dir / secrets.SECRETS_FILENAME).stat().st_mode & 0o777) == "0o600"
    settings.TIMELAPSER_SECRETS_KEYS = [old_key]
    with pytest.raises(secrets.SecretError, match="cannot be decrypted"):
        secrets.load_secret(camera.encryption_key_ref)


def test_rotatesecrets_rehash_after_secret_key_change(camera_server, settings):
    run("addcamera", "hashme", camera_server.url())
    before = Camera.objects.get(name="hashme").url_hash
    settings.SECRET_KEY = "another-secret-key-" + "y" * 40
    assert "Recomputed 1 URL hash(es)." in run("rotatesecrets", "--rehash")
    after = Camera.objects.get(name="hashme").url_hash
    assert after != before and len(after) == 64


def test_capture_test_grabs_a_frame_without_storing_it(camera_server, tmp_path):
    run("addcamera", "probe", camera_server.url())
    run("addcamera", "broken", camera_server.url("/html"))
    saved = tmp_path / "frame.jpg"

    out = run("capture", "probe", "--test", "--save", str(saved))

    assert out.startswith("ok ") and "not stored" in out and str(saved) in out
    assert saved.read_bytes()[:3] == b"\xff\xd8\xff"
    assert not Image.objects.exists() and not CaptureAttempt.objects.exists()
    with pytest.raises(CommandError) as excinfo:
        run("capture", "broken", "--test")
    assert excinfo.value.returncode == 1
    assert "HTML" in str(excinfo.value) and "127.0.0.1" not in str(excinfo.value)
