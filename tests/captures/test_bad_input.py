"""Every kind of bad answer ends as a clear failed attempt, with no image row and no file."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from captures import ingest
from captures.models import CaptureAttempt, Image

pytestmark = pytest.mark.django_db


def assert_failed_cleanly(camera, outcome, data_dir, status, *words):
    assert not outcome.ok
    attempt = CaptureAttempt.objects.get(camera=camera)
    assert attempt.status == status, attempt.error_message
    for word in words:
        assert word.lower() in attempt.error_message.lower(), attempt.error_message
    assert attempt.duration_ms is not None and attempt.image_id is None
    assert not Image.objects.filter(camera=camera).exists()
    assert not (data_dir / "images").exists() or not [
        p for p in (data_dir / "images").rglob("*") if p.is_file()
    ]
    camera.refresh_from_db()
    assert camera.connection_failures == 1 and camera.last_health_check is not None


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/timeout", "timeout", ["timeout"]),
        ("/drip", "timeout", ["deadline"]),
        ("/html", "failed", ["HTML"]),
        ("/html-as-jpeg", "failed", ["HTML"]),
        ("/truncated", "failed", ["truncated"]),
        ("/huge", "failed", ["larger than", "MB"]),
        ("/huge-declared", "failed", ["larger than"]),
        ("/redirect", "failed", ["redirect", "not followed"]),
        ("/401", "failed", ["401"]),
        ("/500", "failed", ["500"]),
        ("/503", "failed", ["503"]),
        ("/nothing-here", "failed", ["404"]),
    ],
)
def test_bad_answer_is_a_clear_failure(add, camera_server, data_dir, settings, path, status, words):
    # Each stall is ended by the one limit it tests; the other stays long, so a loaded
    # machine's slow trickle at /drip cannot turn the deadline into a read timeout.
    if path == "/timeout":
        settings.TIMELAPSER_CAPTURE_READ_TIMEOUT = 0.5
    if path == "/drip":
        settings.TIMELAPSER_CAPTURE_DEADLINE = 2.0
    camera = add(f"bad{path.replace('/', '-')}", camera_server.url(path))
    outcome = ingest.capture(camera)
    assert_failed_cleanly(camera, outcome, data_dir, status, *words)


def test_png_is_accepted_and_its_format_recorded(add, camera_server, data_dir):
    camera = add("png", camera_server.url("/png"))
    outcome = ingest.capture(camera)
    assert outcome.ok, outcome.reason
    assert outcome.image.format == "PNG" and outcome.image.filename.endswith(".png")
    assert (data_dir / outcome.image.file_path).read_bytes()[:4] == b"\x89PNG"


def test_dns_failure(add, data_dir):
    camera = add("nowhere", "http://camera.invalid/snap.jpg")
    assert_failed_cleanly(camera, ingest.capture(camera), data_dir, "failed", "DNS")


def test_connection_refused(add, data_dir):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Bound then closed: nothing listens there now.
    camera = add("refused", f"http://127.0.0.1:{port}/snap.jpg")
    assert_failed_cleanly(camera, ingest.capture(camera), data_dir, "failed", "refused")


def test_unsupported_scheme_is_refused_when_adding(add):
    from cameras.services import CameraError

    with pytest.raises(CameraError, match="Unsupported URL scheme"):
        add("ftp", "ftp://127.0.0.1/snap.jpg")


@pytest.fixture
def full_disk(tmp_path, settings):
    """A real 64 KiB tmpfs as the data dir, filled up: writes fail with ENOSPC."""
    mount = tmp_path / "full"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if result.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root) to simulate a full disk")
    try:
        (mount / "images").mkdir()
        fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        settings.DATA_DIR = mount
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_while_writing(add, camera_server, full_disk):
    from cameras.models import Camera
    from cameras.secrets import url_hash

    # The secrets file would not fit on the full disk either: use an env: ref.
    os.environ["TL_TEST_DISKFULL_URL"] = camera_server.url()
    try:
        camera = Camera.objects.create(
            name="diskfull",
            url_hash=url_hash(camera_server.url()),
            encryption_key_ref="env:TL_TEST_DISKFULL_URL",
        )
        outcome = ingest.capture(camera)
    finally:
        del os.environ["TL_TEST_DISKFULL_URL"]
    attempt = CaptureAttempt.objects.get(camera=camera)
    assert not outcome.ok and attempt.status == "error"
    assert "No space left on device" in attempt.error_message
    assert not Image.objects.filter(camera=camera).exists()
    assert [p.name for p in full_disk.rglob("*") if p.is_file()] == ["filler"]
