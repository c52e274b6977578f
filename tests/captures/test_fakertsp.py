"""The project's own RTSP(S) camera (captures.fakertsp), pulled from by the app's ffmpeg grab."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from cameras.secrets import CameraSecret
from captures import sources
from captures.fakecamera import self_signed_cert
from captures.fakertsp import MAX_PAYLOAD, FakeRtspServer, encode_clip, rtp_packets

ROOT = Path(__file__).resolve().parents[2]
GENEROUS = 60.0  # see test_rtsp.py: never what a grab needs, only what it may take at worst


@pytest.fixture(autouse=True)
def rtsp_settings(settings):
    settings.TIMELAPSER_CAPTURE_DEADLINE = GENEROUS
    settings.TIMELAPSER_CAPTURE_READ_TIMEOUT = 30.0


def grab(url: str, **credentials: str) -> Image.Image:
    picture = Image.open(io.BytesIO(sources.fetch_rtsp(CameraSecret(url=url, **credentials))))
    picture.load()
    return picture


def test_large_nal_units_go_as_fu_a_fragments_that_reassemble_exactly():
    frames = encode_clip()
    key_frame = next(nal for nal in frames[0] if nal[0] & 0x1F == 5)
    assert len(key_frame) > MAX_PAYLOAD, "the clip's key frame should need fragmenting"
    packets = rtp_packets(key_frame, last_in_frame=True)
    assert all(len(payload) <= MAX_PAYLOAD for payload, _ in packets)
    assert [marker for _, marker in packets] == [False] * (len(packets) - 1) + [True]
    indicator, first, last = packets[0][0][0], packets[0][0][1], packets[-1][0][1]
    assert indicator & 0x1F == 28 and indicator & 0xE0 == key_frame[0] & 0xE0
    assert (first & 0xC0, last & 0xC0) == (0x80, 0x40)  # start bit, then end bit
    assert bytes([key_frame[0]]) + b"".join(payload[2:] for payload, _ in packets) == key_frame
    assert rtp_packets(b"\x68small", last_in_frame=False) == [(b"\x68small", False)]


def test_the_clip_is_whole_frames_with_a_key_frame_first():
    frames = encode_clip()
    assert len(frames) == 20
    assert {nal[0] & 0x1F for nal in frames[0]} >= {7, 8, 5}  # SPS, PPS, IDR slice
    assert all(sum(nal[0] & 0x1F in (1, 5) for nal in frame) == 1 for frame in frames)


def test_a_frame_over_rtsps_with_a_self_signed_certificate_and_verify_false(tmp_path):
    """UniFi-style rtsps URL: ?enableSrtp reaches the server as sent, our verify=false does not."""
    with FakeRtspServer(tls=self_signed_cert(tmp_path)) as server:
        picture = grab(server.url("/cam?enableSrtp&verify=false"))
        uris = [request.uri for request in server.requests if request.method == "DESCRIBE"]
    assert (picture.format, picture.size) == ("JPEG", (320, 240))
    assert uris == [f"rtsps://127.0.0.1:{server.port}/cam?enableSrtp"]
    methods = [request.method for request in server.requests]
    assert methods == ["OPTIONS", "DESCRIBE", "SETUP", "PLAY", "TEARDOWN"]


def test_a_self_signed_rtsps_server_is_refused_unless_verify_false(tmp_path):
    with FakeRtspServer(tls=self_signed_cert(tmp_path)) as server:
        with pytest.raises(sources.CaptureError) as refused:
            grab(server.url("/cam?enableSrtp"))
        assert not server.requests, "no RTSP request may go out before the certificate is trusted"
    assert refused.value.status == "failed" and "certificate is not trusted" in refused.value.reason


def test_a_path_the_server_does_not_serve_is_a_404():
    with FakeRtspServer() as server, pytest.raises(sources.CaptureError) as missing:
        grab(server.url("/elsewhere"))
    assert missing.value.status == "failed" and "404" in missing.value.reason


def test_no_credentials_when_the_server_wants_them_is_a_401():
    with FakeRtspServer(username="viewer", password="Pa55") as server:
        with pytest.raises(sources.CaptureError) as refused:
            grab(server.url())
        assert grab(server.url(), username="viewer", password="Pa55").size == (320, 240)
    assert "401" in refused.value.reason


def test_python_m_captures_fakertsp_serves_until_sigterm():
    """The command line the demo uses: venv python, a port, credentials; "ready" once it listens."""
    with FakeRtspServer() as probe:  # a port nobody holds right now
        port = probe.port
    server = subprocess.Popen(
        [sys.executable, "-m", "captures.fakertsp", str(port), "viewer", "cli-Pa55"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == "ready", server.stderr.read()
        picture = grab(f"rtsp://127.0.0.1:{port}/cam", username="viewer", password="cli-Pa55")
        assert picture.size == (320, 240)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=GENEROUS) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
