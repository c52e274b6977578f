"""A day of gaps filled from the console's recordings (`manage.py backfill`), behind the fake console's
cookie login: marked as backfilled, idempotent, paced, and refusals a person can act on."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cameras.models import Camera
from cameras.services import save_console
from captures import discovery, ingest, protect
from captures.fakecamera import make_frames, self_signed_cert
from captures.fakeprotect import LOCAL_USER, FakeProtectConsole
from captures.models import Image

pytestmark = pytest.mark.django_db
API_KEY = "backfill-test-k3y-8642"
DAY = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def console(tmp_path, settings):
    settings.TIMELAPSER_CAPTURE_PROTECT_BACKFILL_RATE = 10
    with FakeProtectConsole(api_key=API_KEY, tls=self_signed_cert(tmp_path)) as server:
        yield server


def connect(console, username=LOCAL_USER[0], password=LOCAL_USER[1]) -> Camera:
    pin = protect.certificate_fingerprint(console.address())
    saved, _ = save_console(
        console.address(), api_key=API_KEY, fingerprint=pin, username=username, password=password
    )
    discovery.add_cameras(saved, [console.camera_ids[0]])
    camera = Camera.objects.get()
    camera.capture_interval_seconds = 3600
    camera.timezone = "UTC"
    camera.save()
    return camera


def backfill(camera, start="2026-11-01", end="2026-11-01") -> str:
    out = StringIO()
    call_command("backfill", str(camera.pk), "--from", start, "--to", end, stdout=out)
    return out.getvalue()


def test_a_day_of_gaps_is_filled_from_recordings_once(console):
    camera = connect(console)
    frame = make_frames(1)[0]
    kept = [DAY + timedelta(hours=h) for h in (0, 7, 23)]
    for slot in kept:
        ingest.store(camera, frame, slot, slot=slot, record_attempt=False)

    started = time.monotonic()
    out = backfill(camera)
    elapsed = time.monotonic() - started

    assert "done slots=24 already_had_an_image=3 filled=21 no_recording=0" in out
    assert "progress" in out
    filled = Image.objects.filter(camera=camera, processing_metadata__backfilled=True)
    assert filled.count() == 21
    assert {image.captured_at for image in filled} == {DAY + timedelta(hours=h) for h in range(24)} - set(
        kept
    )
    assert all(image.processing_metadata["source"] == "protect-recording" for image in filled)
    expected_ms = sorted(
        int((DAY + timedelta(hours=h)).timestamp() * 1000) for h in range(24) if h not in (0, 7, 23)
    )
    assert sorted(console.recording_requests) == expected_ms
    # Paced: 21 requests at no more than 10 a second take at least two seconds.
    assert elapsed >= 20 / 10 * 0.95

    again = backfill(camera)
    assert "done slots=24 already_had_an_image=24 filled=0" in again
    assert len(console.recording_requests) == 21 and Image.objects.filter(camera=camera).count() == 24
    assert LOCAL_USER[1] not in out + again and API_KEY not in out + again


def test_slots_without_recording_are_counted_not_failed(console):
    camera = connect(console)
    console.recorded_span = (DAY + timedelta(hours=12), DAY + timedelta(hours=30))
    out = backfill(camera)
    assert "filled=12 no_recording=12" in out


def test_a_wrong_local_password_says_what_to_fix(console):
    camera = connect(console, password="not-the-password")
    with pytest.raises(CommandError, match="refused the local user's login") as raised:
        backfill(camera)
    assert "not-the-password" not in str(raised.value)
    assert not Image.objects.exists()


def test_without_a_local_user_the_api_key_is_not_enough(console):
    camera = connect(console, username="", password="")
    with pytest.raises(CommandError, match="No local console user"):
        backfill(camera)


def test_a_user_without_the_right_to_view_recordings_is_told_so(console):
    camera = connect(console)
    console.recordings_forbidden = True
    with pytest.raises(CommandError, match="may not view recordings"):
        backfill(camera)


def test_bad_dates_are_a_clear_error(console):
    camera = connect(console)
    with pytest.raises(CommandError, match="is not a date"):
        backfill(camera, start="yesterday")
    with pytest.raises(CommandError, match="--to must be after --from"):
        backfill(camera, start="2026-11-02", end="2026-11-01")
