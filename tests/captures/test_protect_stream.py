"""Full resolution from a camera whose snapshot is capped: one frame of the console's high-quality
RTSPS stream (created through the API, reused, recreated when it disappears), via real ffmpeg
against captures.fakertsp served by the fake console."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from cameras.models import Camera
from cameras.services import save_console
from captures import discovery, ingest, protect
from captures.fakecamera import self_signed_cert
from captures.fakeprotect import CAPPED, FULL_HD, FakeProtectConsole

pytestmark = pytest.mark.django_db
API_KEY = "stream-test-k3y-1357"
# Merged from the `rtsp` branch; until it is in main this module cannot run.
pytest.importorskip("captures.fakertsp", reason="captures.fakertsp (branch rtsp) is not merged yet")


@pytest.fixture
def console(tmp_path, settings, data_dir):
    settings.TIMELAPSER_SECRETS_KEYS = [Fernet.generate_key().decode()]
    settings.TIMELAPSER_CAPTURE_DEADLINE = 20.0
    settings.TIMELAPSER_CAPTURE_READ_TIMEOUT = 10.0
    tls = self_signed_cert(tmp_path)
    protect._stream_urls.clear()
    with FakeProtectConsole(api_key=API_KEY, tls=tls, stream_tls=tls) as server:
        pin = protect.certificate_fingerprint(server.address())
        saved, _ = save_console(server.address(), api_key=API_KEY, fingerprint=pin)
        discovery.add_cameras(saved, "all")
        yield server


def posts(console) -> int:
    return sum(1 for method, path, _ in console.log if method == "POST" and path.endswith("/rtsps-stream"))


def test_auto_takes_full_resolution_from_the_stream_where_the_snapshot_is_capped(console):
    garden = Camera.objects.get(name="Garden")
    assert garden.source_mode == "auto" and garden.protect_info["full_hd_snapshot"] is False
    outcome = ingest.capture(garden)
    assert outcome.ok, outcome.reason
    assert (outcome.image.width, outcome.image.height) == FULL_HD
    assert outcome.image.processing_metadata["source"] == "protect-stream"
    assert outcome.image.processing_metadata["resolution"] == "1920x1080"
    # What the snapshot endpoint gives the same camera: the cap the stream avoids.
    garden.source_mode = Camera.SourceMode.SNAPSHOT
    outcome = ingest.capture(garden)
    assert (outcome.image.width, outcome.image.height) == CAPPED
    assert outcome.image.processing_metadata["source"] == "protect-snapshot"


def test_the_stream_is_reused_and_recreated_when_it_disappears(console):
    garden = Camera.objects.get(name="Garden")
    garden.source_mode = Camera.SourceMode.STREAM
    assert ingest.capture(garden).ok
    assert ingest.capture(garden).ok
    assert posts(console) == 1  # the second capture reused the stream
    console.delete_stream(garden.protect_camera_id, "high")  # someone removed it on the console
    outcome = ingest.capture(garden)
    assert outcome.ok, outcome.reason
    assert posts(console) == 2


def test_an_existing_stream_on_the_console_is_used_without_creating_one(console):
    garden = Camera.objects.get(name="Garden")
    console.create_stream(garden.protect_camera_id, "high")
    assert ingest.capture(garden).ok
    assert posts(console) == 0
