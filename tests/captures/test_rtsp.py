"""RTSP frame grabs with imageio-ffmpeg's ffmpeg against GStreamer's RTSP server on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from cameras.secrets import CameraSecret
from captures import ingest, sources
from captures.models import CaptureAttempt, Image

pytestmark = pytest.mark.django_db
SERVER = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def ffmpeg_children() -> dict[int, tuple[list[str], bytes]]:
    """{pid: (argv, environ)} of the ffmpeg processes this test process started."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (entry / "cmdline").read_bytes().decode().split("\0")
            environ = (entry / "environ").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and "ffmpeg" in Path(argv[0]).name:
            found[int(entry.name)] = (argv, environ)
    return found


class FfmpegWatcher(threading.Thread):
    """Records every ffmpeg child seen while a grab runs (no database in this thread)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen: dict[int, tuple[list[str], bytes]] = {}
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.seen.update(ffmpeg_children())
            time.sleep(0.02)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join()


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
        with FfmpegWatcher() as watcher:
            outcome = ingest.capture(camera)
        elapsed = time.monotonic() - started
    assert outcome.attempt.status == "timeout", outcome.reason
    assert elapsed < 10
    assert not Image.objects.filter(camera=camera).exists()
    assert CaptureAttempt.objects.get(camera=camera).error_message.startswith("The RTSP stream gave no frame")
    assert watcher.seen, "ffmpeg never ran"
    assert not any(Path(f"/proc/{pid}").exists() for pid in watcher.seen), "ffmpeg outlived its deadline"


def test_rtsp_url_and_credentials_never_reach_ffmpegs_argv_or_environment(settings, monkeypatch):
    """GIVEN an NVR that accepts the connection and then says nothing
    WHEN a frame is grabbed THEN the running ffmpeg's command line (world-readable in ps)
    and environment name neither the host and port, the alias nor the credentials; the
    URL is in a 0600 file in a private dir that is gone afterwards."""
    settings.TIMELAPSER_CAPTURE_DEADLINE = 3.0
    settings.TIMELAPSER_CAPTURE_READ_TIMEOUT = 30.0
    # Camera URLs may live in the worker's environment (env:VAR refs).
    monkeypatch.setenv("FRONT_CAM_URL", "rtsp://nvr.example:7447/envAliasQ7")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        secret = CameraSecret(
            url=f"rtsp://127.0.0.1:{port}/aliasK3x9Zq", username="viewer", password="hunter2-rtsp"
        )
        result = {}
        grab = threading.Thread(target=lambda: result.setdefault("error", _grab(secret)))
        grab.start()
        deadline = time.monotonic() + 10
        running = {}
        while not running and time.monotonic() < deadline:
            running = ffmpeg_children()
            time.sleep(0.02)
        assert running, "ffmpeg never ran"
        (pid, (argv, environ)), *_ = running.items()
        source = Path(argv[argv.index("-i") + 1])
        script_mode, dir_mode = (
            stat.S_IMODE(source.stat().st_mode),
            stat.S_IMODE(source.parent.stat().st_mode),
        )
        script = source.read_text()
        grab.join()
    command_line = " ".join(argv)
    for secret_part in (f":{port}", "aliasK3x9Zq", "viewer", "hunter2-rtsp", "rtsp://", "envAliasQ7"):
        assert secret_part not in command_line
        assert secret_part.encode() not in environ
    assert "aliasK3x9Zq" in script and (script_mode, dir_mode) == (0o600, 0o700)
    assert not source.exists() and not source.parent.exists()
    assert not Path(f"/proc/{pid}").exists()
    assert result["error"].status == "timeout"


def _grab(secret: CameraSecret) -> sources.CaptureError | None:
    try:
        sources.fetch_rtsp(secret)
    except sources.CaptureError as error:
        return error
    return None


def test_a_control_character_in_an_rtsp_url_is_refused():
    """A newline would start a new line of ffmpeg's input script: refused, never run."""
    with pytest.raises(sources.CaptureError, match="control characters"):
        sources.fetch_rtsp(CameraSecret(url="rtsp://127.0.0.1:1/cam\nfile '/etc/passwd'"))
