"""The capture pipeline against a real HTTP camera on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cameras.models import Camera
from captures import ingest
from captures.models import CaptureAttempt, Image
from captures.signals import capture_failed, image_captured

pytestmark = pytest.mark.django_db


def files_under(path):
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and p.name != "camera_secrets.enc" and not p.name.endswith(".lock")
    )


def test_capture_stores_file_row_and_success_attempt(
    add, camera_server, data_dir, django_capture_on_commit_callbacks
):
    camera = add("front", camera_server.url())
    received = []
    image_captured.connect(lambda **kw: received.append(kw["image"].pk), weak=False, dispatch_uid="t1")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            outcome = ingest.capture(camera)
    finally:
        image_captured.disconnect(dispatch_uid="t1")
    assert outcome.ok, outcome.reason
    image = outcome.image
    path = data_dir / image.file_path
    assert path.read_bytes()[:3] == b"\xff\xd8\xff"
    assert image.file_path.startswith(f"images/{camera.pk}/")
    assert (image.width, image.height, image.format) == (320, 240, "JPEG")
    assert image.file_size_bytes == path.stat().st_size
    assert len(image.file_hash) == 64
    assert 50 <= image.quality_score <= 100
    assert outcome.attempt.status == "success" and outcome.attempt.image_id == image.pk
    assert received == [image.pk]
    camera.refresh_from_db()
    assert camera.last_health_check is not None and camera.connection_failures == 0
    assert not list(data_dir.rglob("*.tmp"))


def test_failure_counts_and_success_resets_connection_failures(add, camera_server):
    camera = add("flaky", camera_server.url("/500"))
    ingest.capture(camera)
    ingest.capture(camera)
    camera.refresh_from_db()
    assert camera.connection_failures == 2
    from cameras.services import set_camera_url

    set_camera_url(camera, camera_server.url())
    assert ingest.capture(camera).ok
    camera.refresh_from_db()
    assert camera.connection_failures == 0


def test_failed_attempt_sends_capture_failed(add, camera_server, django_capture_on_commit_callbacks):
    camera = add("broken", camera_server.url("/503"))
    seen = []
    capture_failed.connect(lambda **kw: seen.append(kw["attempt"].status), weak=False, dispatch_uid="t2")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ingest.capture(camera)
    finally:
        capture_failed.disconnect(dispatch_uid="t2")
    assert seen == ["failed"]


def test_same_slot_twice_makes_one_image(add, camera_server):
    camera = add("slotted", camera_server.url())
    slot = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    first = ingest.capture(camera, slot=slot)
    requests = camera_server.requests
    second = ingest.capture(camera, slot=slot)
    assert camera_server.requests == requests  # found the slot's image without asking the camera
    assert second.already_done and second.image.pk == first.image.pk
    assert Image.objects.filter(camera=camera).count() == 1
    assert CaptureAttempt.objects.filter(camera=camera).count() == 1


@pytest.mark.parametrize(
    ("rotation", "size"), [("none", (320, 240)), ("left", (240, 320)), ("invert", (320, 240))]
)
def test_rotation_is_applied(add, camera_server, data_dir, rotation, size):
    from PIL import Image as PILImage

    camera = add(f"rot-{rotation}", camera_server.url(), rotation=rotation)
    image = ingest.capture(camera).image
    assert (image.width, image.height) == size
    with PILImage.open(data_dir / image.file_path) as stored:
        assert stored.size == size


def test_frozen_camera_scores_low(add, camera_server):
    camera = add("stuck", camera_server.url("/frozen.jpg"))
    first = ingest.capture(camera).image
    second = ingest.capture(camera).image
    assert first.quality_score > 50
    assert second.quality_score <= 10
    assert "frozen" in second.processing_metadata["quality"]["flags"]


def test_dark_blank_frame_scores_low(add, data_dir):
    import io

    from django.utils import timezone
    from PIL import Image as PILImage

    camera = Camera.objects.create(name="night", url_hash="0" * 64)
    out = io.BytesIO()
    PILImage.new("RGB", (320, 240), (3, 3, 3)).save(out, "JPEG")
    image = ingest.store(camera, out.getvalue(), timezone.now()).image
    assert image.quality_score < 20
    assert {"dark", "blank"} <= set(image.processing_metadata["quality"]["flags"])


def test_basic_and_digest_auth(add, camera_server):
    from captures import fakecamera

    for mode in ("basic", "digest"):
        camera = add(
            mode, camera_server.url(f"/{mode}"), username=fakecamera.USERNAME, password=fakecamera.PASSWORD
        )
        outcome = ingest.capture(camera)
        assert outcome.ok, outcome.reason
    wrong = add("wrong", camera_server.url("/digest?again=1"), username="viewer", password="nope")
    outcome = ingest.capture(wrong)
    assert outcome.attempt.status == "failed" and "401" in outcome.reason


def test_exif_goes_into_processing_metadata(add, data_dir):
    import io

    from django.utils import timezone
    from PIL import Image as PILImage

    from captures.fakecamera import make_frames

    camera = Camera.objects.create(name="exif", url_hash="1" * 64)
    with PILImage.open(io.BytesIO(make_frames(1)[0])) as frame:
        exif = PILImage.Exif()
        exif[0x010F] = "Ubiquiti"  # Make
        out = io.BytesIO()
        frame.save(out, "JPEG", exif=exif)
    image = ingest.store(camera, out.getvalue(), timezone.now()).image
    assert image.processing_metadata["exif"]["Make"] == "Ubiquiti"


def test_odd_exif_values_do_not_break_the_insert(data_dir):
    """NUL bytes in strings and 0/0 rationals are common in camera EXIF; JSON columns refuse them."""
    import io

    from django.utils import timezone
    from PIL import Image as PILImage
    from PIL.TiffImagePlugin import IFDRational

    from captures.fakecamera import make_frames

    camera = Camera.objects.create(name="odd-exif", url_hash="4" * 64)
    with PILImage.open(io.BytesIO(make_frames(1)[0])) as frame:
        exif = PILImage.Exif()
        exif[0x010F] = "Cam\x00Corp\x00"  # Make
        exif[0x011A] = IFDRational(0, 0)  # XResolution
        out = io.BytesIO()
        frame.save(out, "JPEG", exif=exif)
    image = ingest.store(camera, out.getvalue(), timezone.now()).image
    image.refresh_from_db()
    assert image.processing_metadata["exif"]["Make"] == "CamCorp"
    assert "XResolution" not in image.processing_metadata["exif"]


def test_stored_image_matches_its_row(add, camera_server):
    """GIVEN a camera with a day counter WHEN it captures THEN the returned image and attempt
    are the rows as stored, day number (computed by the database on PostgreSQL) included."""
    from datetime import date

    camera = add(
        "counted", camera_server.url(), day_counter_enabled=True, day_counter_start_date=date(2020, 1, 1)
    )
    outcome = ingest.capture(camera, slot=datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    stored = Image.objects.get(pk=outcome.image.pk)
    assert stored.day_number is not None and outcome.image.day_number == stored.day_number
    assert outcome.image.capture_slot == stored.capture_slot == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert stored.processing_metadata == outcome.image.processing_metadata
    assert CaptureAttempt.objects.get(pk=outcome.attempt.pk).image_id == stored.pk
    assert not outcome.image._state.adding


def test_a_slot_taken_meanwhile_leaves_the_callers_transaction_usable(add, camera_server, data_dir):
    """Two runs of one slot race: the loser's insert fails on the unique slot, its file goes,
    and the transaction it ran in (here the test's) can still be used."""
    from django.db import IntegrityError

    camera = add("raced", camera_server.url())
    slot = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    frame = camera_server.frames[3]
    first = ingest.store(camera, frame, datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC), slot=slot)
    with pytest.raises(IntegrityError):
        ingest.store(camera, frame, datetime(2026, 1, 1, 12, 0, 2, tzinfo=UTC), slot=slot)
    assert list(Image.objects.filter(camera=camera).values_list("pk", flat=True)) == [first.image.pk]
    assert files_under(data_dir / "images") == [data_dir / first.image.file_path]
    assert CaptureAttempt.objects.filter(camera=camera).count() == 1


def test_success_of_a_camera_never_reported_down_costs_no_notification_query(
    add, camera_server, django_capture_on_commit_callbacks, django_assert_num_queries
):
    camera = add("healthy", camera_server.url())
    with django_capture_on_commit_callbacks() as callbacks:
        assert ingest.capture(camera).ok
    with django_assert_num_queries(0):
        for callback in callbacks:
            callback()


def test_camera_reported_down_elsewhere_is_announced_back_up(
    add, camera_server, django_capture_on_commit_callbacks
):
    """GIVEN a worker holding a camera loaded before another worker reported it down
    WHEN it captures successfully THEN the camera is marked up again (the "back up" notice)."""
    from django.utils import timezone

    camera = add("flappy", camera_server.url())
    Camera.objects.filter(pk=camera.pk).update(down_notified_at=timezone.now(), connection_failures=5)
    assert camera.down_notified_at is None  # this object has not seen it
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest.capture(camera).ok
    camera.refresh_from_db()
    assert camera.down_notified_at is None and camera.connection_failures == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_capture_costs_two_queries_on_postgresql(add, camera_server, django_assert_num_queries):
    """The slot check with the previous hash, then one statement for image, attempt and health
    (outside a transaction, as in the worker: no BEGIN, COMMIT or savepoint round trips)."""
    camera = add("lean", camera_server.url())
    with django_assert_num_queries(2):
        assert ingest.capture(camera, slot=datetime(2026, 1, 1, tzinfo=UTC)).ok
