"""RTSP frame grabs with imageio-ffmpeg's ffmpeg against GStreamer's RTSP server on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from captures import ingest
from captures.models import CaptureAttempt, Image

pytestmark = pytest.mark.django_db
SERVER = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def rtsp_server():
    if not shutil.which(SYSTEM_PYTHON):
        pytest.skip("system python3 with python3-gi is needed for the RTSP server")
    port = free_port()
    process = subprocess.Popen(
        [SYSTEM_PYTHON, str(SERVER), str(port), "viewer", "rtsp-Pa55"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        if line.strip() != "ready":
            pytest.fail(f"RTSP server did not start: {process.stderr.read()}")
        yield port
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def rtsp_settings(settings):
    settings.TIMELAPSER_CAPTURE_DEADLINE = 15.0
    settings.TIMELAPSER_CAPTURE_READ_TIMEOUT = 5.0


def test_rtsp_frame_grab(add, rtsp_server, rtsp_settings, data_dir):
    camera = add("rtsp", f"rtsp://127.0.0.1:{rtsp_server}/cam", username="viewer", password="rtsp-Pa55")
    outcome = ingest.capture(camera)
    assert outcome.ok, outcome.reason
    assert (outcome.image.width, outcome.image.height, outcome.image.format) == (320, 240, "JPEG")
    assert (data_dir / outcome.image.file_path).stat().st_size == outcome.image.file_size_bytes


def test_rtsp_wrong_password(add, rtsp_server, rtsp_settings):
    camera = add("rtsp-bad", f"rtsp://127.0.0.1:{rtsp_server}/cam", username="viewer", password="nope")
    outcome = ingest.capture(camera)
    assert outcome.attempt.status == "failed" and "401" in outcome.reason
    assert "nope" not in outcome.reason and str(rtsp_server) not in outcome.reason


def test_rtsp_stalled_server_is_killed_at_the_deadline(add, rtsp_settings, settings, data_dir):
    """A TCP listener that never answers: ffmpeg is killed at the deadline, nothing stored."""
    settings.TIMELAPSER_CAPTURE_DEADLINE = 1.5
    settings.TIMELAPSER_CAPTURE_READ_TIMEOUT = 30.0  # so only our deadline can end it
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        camera = add("rtsp-stall", f"rtsp://127.0.0.1:{port}/cam")
        started = time.monotonic()
        outcome = ingest.capture(camera)
        elapsed = time.monotonic() - started
    assert outcome.attempt.status == "timeout", outcome.reason
    assert elapsed < 10
    assert not Image.objects.filter(camera=camera).exists()
    assert CaptureAttempt.objects.get(camera=camera).error_message.startswith("The RTSP stream gave no frame")
    leftover = subprocess.run(["pgrep", "-f", f"127.0.0.1:{port}/cam"], capture_output=True)
    assert leftover.returncode == 1, "ffmpeg outlived its deadline"
