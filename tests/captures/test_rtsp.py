"""RTSP frame grabs with imageio-ffmpeg's ffmpeg against the project's own RTSP camera on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from pathlib import Path

import pytest

from cameras.secrets import CameraSecret
from captures import ingest, sources
from captures.fakertsp import FakeRtspServer
from captures.models import CaptureAttempt, Image

pytestmark = pytest.mark.django_db
# Long enough that no test depends on how fast a loaded machine is: a good grab returns as
# soon as it has its frame, and a refusal as soon as the server says no.
GENEROUS = 60.0


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


class SilentNvr:
    """Accepts one connection and never says a word: ffmpeg waits for an answer that never comes.

    `connected` is set once the client is in, so a test waits on that event, not on a clock.
    """

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connected = threading.Event()
        self.conn: socket.socket | None = None
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        self.listener.settimeout(GENEROUS)
        try:
            self.conn, _ = self.listener.accept()
        except OSError:
            return
        self.connected.set()

    def hang_up(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def client_gone(self) -> bool:
        """True once the client's end of the connection is closed (its process is dead)."""
        assert self.conn is not None, "nobody connected"
        self.conn.settimeout(GENEROUS)
        try:
            while self.conn.recv(65536):
                pass  # a stray request line: keep reading until the close
        except ConnectionResetError:
            pass
        return True

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.hang_up()
        self.listener.close()
        self._thread.join()


@pytest.fixture(scope="module")
def rtsp_server():
    with FakeRtspServer(username="viewer", password="rtsp-Pa55") as server:
        yield server


@pytest.fixture
def rtsp_settings(settings):
    settings.TIMELAPSER_CAPTURE_DEADLINE = GENEROUS
    settings.TIMELAPSER_CAPTURE_READ_TIMEOUT = 30.0


def test_rtsp_frame_grab(add, rtsp_server, rtsp_settings, data_dir):
    camera = add("rtsp", rtsp_server.url(), username="viewer", password="rtsp-Pa55")
    outcome = ingest.capture(camera)
    assert outcome.ok, outcome.reason
    assert (outcome.image.width, outcome.image.height, outcome.image.format) == (320, 240, "JPEG")
    assert (data_dir / outcome.image.file_path).stat().st_size == outcome.image.file_size_bytes


def test_rtsp_wrong_password(add, rtsp_server, rtsp_settings):
    camera = add("rtsp-bad", rtsp_server.url(), username="viewer", password="nope")
    outcome = ingest.capture(camera)
    assert outcome.attempt.status == "failed" and "401" in outcome.reason
    assert "nope" not in outcome.reason and str(rtsp_server.port) not in outcome.reason


def test_rtsp_digest_camera_takes_the_right_password_and_refuses_a_wrong_one(add, rtsp_settings):
    """Many NVRs ask for Digest: ffmpeg answers the challenge, the password never goes in clear."""
    with FakeRtspServer(username="viewer", password="d1gest-Pa55", digest=True) as server:
        good = ingest.capture(add("rtsp-digest", server.url(), username="viewer", password="d1gest-Pa55"))
        with pytest.raises(sources.CaptureError) as bad:
            sources.fetch_rtsp(CameraSecret(url=server.url(), username="viewer", password="wrong"))
        authorizations = [request.headers.get("authorization", "") for request in server.requests]
    assert good.ok, good.reason
    assert bad.value.status == "failed" and "401" in bad.value.reason and "wrong" not in bad.value.reason
    assert any(value.startswith("Digest ") for value in authorizations)
    assert not any("d1gest-Pa55" in value or value.startswith("Basic") for value in authorizations)


def test_rtsp_stalled_server_is_killed_at_the_deadline(add, rtsp_settings, settings, data_dir):
    """A server that accepts and never answers: ffmpeg is killed at our deadline, nothing stored.

    ffmpeg's own socket timeout is set far beyond the deadline, so only the kill can end it
    before that; how long the kill took on this machine is not the test's business.
    """
    settings.TIMELAPSER_CAPTURE_DEADLINE = 1.5
    settings.TIMELAPSER_CAPTURE_READ_TIMEOUT = 240.0
    with SilentNvr() as nvr:
        camera = add("rtsp-stall", f"rtsp://127.0.0.1:{nvr.port}/cam")
        started = time.monotonic()
        outcome = ingest.capture(camera)
        elapsed = time.monotonic() - started
        assert nvr.connected.is_set(), "ffmpeg never connected"
        assert nvr.client_gone()
    assert outcome.attempt.status == "timeout", outcome.reason
    assert elapsed < settings.TIMELAPSER_CAPTURE_READ_TIMEOUT, "ffmpeg ended by its own timeout, not ours"
    assert not ffmpeg_children(), "ffmpeg outlived its deadline"
    assert not Image.objects.filter(camera=camera).exists()
    assert CaptureAttempt.objects.get(camera=camera).error_message.startswith("The RTSP stream gave no frame")


def test_rtsp_url_and_credentials_never_reach_ffmpegs_argv_or_environment(settings, monkeypatch):
    """GIVEN an NVR that accepts the connection and then says nothing
    WHEN a frame is grabbed THEN the running ffmpeg's command line (world-readable in ps)
    and environment name neither the host and port, the alias nor the credentials; the
    URL is in a 0600 file in a private dir that is gone afterwards."""
    settings.TIMELAPSER_CAPTURE_DEADLINE = GENEROUS
    settings.TIMELAPSER_CAPTURE_READ_TIMEOUT = GENEROUS
    # Camera URLs may live in the worker's environment (env:VAR refs).
    monkeypatch.setenv("FRONT_CAM_URL", "rtsp://nvr.example:7447/envAliasQ7")
    with SilentNvr() as nvr:
        secret = CameraSecret(
            url=f"rtsp://127.0.0.1:{nvr.port}/aliasK3x9Zq", username="viewer", password="hunter2-rtsp"
        )
        result = {}
        grab = threading.Thread(target=lambda: result.setdefault("error", _grab(secret)))
        grab.start()
        # Connected means ffmpeg is running and has read its script; it stays blocked on
        # our silence until we hang up.
        assert nvr.connected.wait(GENEROUS), "ffmpeg never connected"
        running = ffmpeg_children()
        assert running, "ffmpeg is not running"
        (pid, (argv, environ)), *_ = running.items()
        source = Path(argv[argv.index("-i") + 1])
        script_mode, dir_mode = (
            stat.S_IMODE(source.stat().st_mode),
            stat.S_IMODE(source.parent.stat().st_mode),
        )
        script = source.read_text()
        nvr.hang_up()
        grab.join()
    command_line = " ".join(argv)
    for secret_part in (f":{nvr.port}", "aliasK3x9Zq", "viewer", "hunter2-rtsp", "rtsp://", "envAliasQ7"):
        assert secret_part not in command_line
        assert secret_part.encode() not in environ
    assert "aliasK3x9Zq" in script and (script_mode, dir_mode) == (0o600, 0o700)
    assert not source.exists() and not source.parent.exists()
    assert not Path(f"/proc/{pid}").exists()
    assert result["error"].status == "failed"
    assert "hunter2" not in result["error"].reason and str(nvr.port) not in result["error"].reason


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
