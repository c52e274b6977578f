"""Selecting frames, the integrity check, the status machine and the render command."""

from __future__ import annotations

import hashlib
import itertools
import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from batches import ffmpeg, lifecycle, render
from batches.models import TimelapseBatch
from batches.selection import Selection, SelectionError, create_batch, create_batch_from_images
from tests.batches.conftest import PALETTE, SIZE, nearest, region_mean
from tests.factories import make_camera, make_image

Status = TimelapseBatch.Status


def frame_ids(batch):
    return list(batch.frames.order_by("sequence_order").values_list("image_id", flat=True))


# --- Selection ------------------------------------------------------------------


def test_selection_by_local_date_range_and_time_window(camera):
    camera.timezone = "Europe/Berlin"
    camera.save()
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    images = {
        (day, hour): make_image(camera, datetime(2026, 6, day, hour, 0, tzinfo=berlin))
        for day in (1, 2, 3)
        for hour in (0, 8, 12, 20)
    }

    batch = create_batch(
        camera,
        Selection(date_from=datetime(2026, 6, 2).date(), date_to=datetime(2026, 6, 3).date(),
                  time_from=time(7), time_to=time(13)),
    )  # fmt: skip

    assert frame_ids(batch) == [images[(d, h)].pk for d in (2, 3) for h in (8, 12)]
    assert batch.total_frames == 4
    assert batch.selection["time_from"] == "07:00:00"
    assert batch.status == Status.PENDING


def test_time_window_may_wrap_midnight(camera):
    base = datetime(2026, 6, 1, tzinfo=zoneinfo.ZoneInfo("UTC"))
    images = [make_image(camera, base + timedelta(hours=h)) for h in (1, 12, 23)]

    batch = create_batch(camera, Selection(time_from=time(22), time_to=time(2)))

    assert frame_ids(batch) == [images[0].pk, images[2].pk]


def test_selection_by_day_range_and_min_quality(camera, day_start):
    camera.day_counter_enabled = True
    camera.day_counter_start_date = day_start.date()
    camera.save()
    kept = []
    for day in range(4):
        for quality in (None, 40, 90):
            image = make_image(camera, day_start + timedelta(days=day, hours=1 + (quality or 0) / 10),
                               quality_score=quality)  # fmt: skip
            if day in (1, 2) and quality == 90:
                kept.append(image.pk)

    batch = create_batch(camera, Selection(day_from=2, day_to=3, min_quality=50))

    assert frame_ids(batch) == kept
    assert (batch.day_range_start, batch.day_range_end) == (2, 3)


def test_target_length_samples_evenly_per_day(camera, day_start):
    # Day 1 has 100 images, day 2 has 10, day 3 has 40; 2 s at 15 fps = 30 frames.
    for day, count in enumerate((100, 10, 40)):
        for i in range(count):
            make_image(camera, day_start + timedelta(days=day, minutes=i))

    batch = create_batch(camera, Selection(fps=15, target_seconds=2))

    chosen = list(batch.frames.order_by("sequence_order").values_list("image__captured_at", flat=True))
    per_day = [
        sum(1 for at in chosen if at.date() == (day_start + timedelta(days=d)).date()) for d in range(3)
    ]
    assert batch.total_frames == len(chosen) == 30
    assert per_day == [10, 10, 10]
    assert chosen == sorted(chosen)
    day1 = [at for at in chosen if at.date() == day_start.date()]
    gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(day1)}
    assert gaps == {600.0}, "evenly spaced within the day"
    assert batch.frame_rate == 15


def test_a_short_day_gives_its_share_to_the_others(camera, day_start):
    for day, count in enumerate((2, 50)):
        for i in range(count):
            make_image(camera, day_start + timedelta(days=day, minutes=i))

    batch = create_batch(camera, Selection(fps=10, target_seconds=2))

    assert batch.total_frames == 20


def test_empty_or_contradictory_selection_is_refused_with_a_reason(camera):
    with pytest.raises(SelectionError, match="No images"):
        create_batch(camera, Selection())
    with pytest.raises(SelectionError, match="after end date"):
        create_batch(
            camera,
            Selection(date_from=timezone.now().date(), date_to=timezone.now().date() - timedelta(days=1)),
        )
    assert not TimelapseBatch.objects.exists()


def test_batch_from_chosen_images_orders_them_and_refuses_two_cameras(camera):
    other = make_camera()
    late = make_image(camera, timezone.now())
    early = make_image(camera, timezone.now() - timedelta(hours=1))

    batch = create_batch_from_images([late, early])

    assert frame_ids(batch) == [early.pk, late.pk]
    with pytest.raises(SelectionError, match="one camera"):
        create_batch_from_images([late, make_image(other)])


# --- Integrity --------------------------------------------------------------------


def test_missing_and_corrupt_frames_are_left_out_and_recorded(camera, add_frame, day_start, data_dir):
    images = [add_frame(camera, day_start + timedelta(minutes=i), PALETTE[i]) for i in range(5)]
    (data_dir / images[1].file_path).unlink()
    corrupt = data_dir / images[3].file_path
    data = bytearray(corrupt.read_bytes())
    data[-10] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    batch = create_batch(camera, Selection())

    batch = render.render_batch(batch.pk)

    assert batch.status == Status.COMPLETED
    reasons = {d["image_id"]: d["reason"] for d in batch.dropped_frames}
    assert reasons == {
        images[1].pk: "missing file",
        images[3].pk: "checksum mismatch (file changed or corrupt)",
    }
    assert batch.total_frames == 3
    assert list(batch.frames.order_by("sequence_order").values_list("sequence_order", "image_id")) == [
        (1, images[0].pk), (2, images[2].pk), (3, images[4].pk)
    ]  # fmt: skip
    decoded = ffmpeg.decode_frames(data_dir / batch.output_path)
    assert [nearest(region_mean(f, SIZE, (100, 80, 220, 160))) for f in decoded] == [0, 2, 4]


def test_all_frames_missing_fails_with_reason_and_can_be_retried(camera, add_frame, day_start, data_dir):
    image = add_frame(camera, day_start, PALETTE[0])
    content = (data_dir / image.file_path).read_bytes()
    (data_dir / image.file_path).unlink()
    batch = create_batch(camera, Selection())

    batch = render.render_batch(batch.pk)

    assert batch.status == Status.FAILED
    assert "No frames left to render" in batch.error_message
    assert batch.output_path is None
    assert not list((data_dir / "videos").rglob("*.mp4"))

    # The operator puts the file back (say, a remounted disk) and retries.
    (data_dir / image.file_path).write_bytes(content)
    batch.frames.create(image=image, sequence_order=1)
    assert lifecycle.retry(batch)
    assert render.render_batch(batch.pk).status == Status.COMPLETED


def test_an_undecodable_frame_fails_the_render_instead_of_shipping_a_short_video(
    camera, add_frame, day_start, data_dir
):
    add_frame(camera, day_start, PALETTE[0])
    bad = add_frame(camera, day_start + timedelta(minutes=1), PALETTE[1])
    add_frame(camera, day_start + timedelta(minutes=2), PALETTE[2])
    # Garbage whose size and checksum are what the row says: the integrity check passes it.
    garbage = b"not a jpeg at all" * 50
    (data_dir / bad.file_path).write_bytes(garbage)
    bad.file_size_bytes = len(garbage)
    bad.file_hash = hashlib.sha256(garbage).hexdigest()
    bad.save()

    batch = render.render_batch(create_batch(camera, Selection()).pk)

    assert batch.status == Status.FAILED
    assert batch.error_message.startswith("ffmpeg")
    assert not list((data_dir / "videos").rglob("*.mp4")), "no file under the output name"
    assert not list((data_dir / "videos").rglob(".*part"))


def test_an_unwritable_output_fails_with_a_readable_reason(camera, add_frame, day_start, data_dir):
    add_frame(camera, day_start, PALETTE[0])
    batch = create_batch(camera, Selection())
    # A file where the camera's video folder should be: nothing can be written there.
    (data_dir / "videos").mkdir()
    (data_dir / "videos" / str(camera.pk)).write_text("in the way")

    batch = render.render_batch(batch.pk)

    assert batch.status == Status.FAILED
    assert "while rendering" in batch.error_message or "ffmpeg" in batch.error_message
    assert batch.completed_at is not None


# --- Status machine --------------------------------------------------------------


def test_only_one_worker_can_claim_a_batch(camera):
    batch = (
        create_batch(camera, Selection())
        if False
        else TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only")
    )

    first = lifecycle.claim(batch.pk)
    second = lifecycle.claim(batch.pk)

    assert first is not None and first.status == Status.PROCESSING and first.attempts == 1
    assert second is None
    assert render.render_batch(batch.pk) is None, "a processing batch is not rendered twice"


def test_stale_processing_batches_are_requeued_then_failed(
    camera, settings, django_capture_on_commit_callbacks
):
    settings.TIMELAPSER_RENDER_MAX_ATTEMPTS = 2
    old = timezone.now() - timedelta(seconds=settings.TIMELAPSER_RENDER_STALE_SECONDS + 5)
    fresh = TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only",
                                          status=Status.PROCESSING, attempts=1, heartbeat_at=timezone.now())  # fmt: skip
    retryable = TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only",
                                              status=Status.PROCESSING, attempts=1, heartbeat_at=old)  # fmt: skip
    spent = TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only",
                                          status=Status.PROCESSING, attempts=2, heartbeat_at=old)  # fmt: skip

    with django_capture_on_commit_callbacks() as queued:
        outcome = lifecycle.recover_stale()

    assert outcome == {"requeued": [retryable.pk], "failed": [spent.pk]}
    # One render task for the requeued batch, one render-failed notice for the spent one.
    assert len(queued) == 2
    for batch in (fresh, retryable, spent):
        batch.refresh_from_db()
    assert fresh.status == Status.PROCESSING
    assert retryable.status == Status.PENDING and "stopped responding" in retryable.error_message
    assert spent.status == Status.FAILED and "gave up" in spent.error_message


def test_pending_batches_whose_message_was_lost_are_queued_again_once_per_period(
    camera, settings, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - timedelta(seconds=settings.TIMELAPSER_RENDER_REQUEUE_PENDING_SECONDS + 5)
    lost = TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only",
                                         status=Status.PENDING, created_at=long_ago)  # fmt: skip
    waiting = TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only",
                                            status=Status.PENDING)  # fmt: skip
    done = TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only",
                                         status=Status.COMPLETED, created_at=long_ago)  # fmt: skip

    with django_capture_on_commit_callbacks() as queued:
        assert lifecycle.recover_stale() == {"requeued": [lost.pk], "failed": []}
    assert len(queued) == 1
    lost.refresh_from_db()
    assert lost.status == Status.PENDING and lost.heartbeat_at > long_ago
    # The next beat tick does not queue it again: once per period.
    with django_capture_on_commit_callbacks() as queued:
        assert lifecycle.recover_stale() == {"requeued": [], "failed": []}
    assert queued == []
    waiting.refresh_from_db()
    done.refresh_from_db()
    assert waiting.heartbeat_at is None and done.status == Status.COMPLETED


# --- Command ---------------------------------------------------------------------


def test_render_command_prints_the_batch_id_and_renders(camera, add_frame, day_start, data_dir, capsys):
    for i in range(3):
        add_frame(camera, day_start + timedelta(minutes=i), PALETTE[i])

    call_command("render", camera.name, "--type", "checkpoint", "--fps", "12")

    batch = TimelapseBatch.objects.get()
    assert capsys.readouterr().out.splitlines()[0] == str(batch.pk)
    assert batch.status == Status.COMPLETED and batch.batch_type == "checkpoint" and batch.frame_rate == 12
    assert (data_dir / batch.output_path).is_file()


def test_render_command_fails_with_the_reason(camera, add_frame, day_start, data_dir):
    with pytest.raises(CommandError, match="No camera named"):
        call_command("render", "nope")
    with pytest.raises(CommandError, match="No images"):
        call_command("render", camera.name, "--from", "2020-01-01", "--to", "2020-01-02")
    image = add_frame(camera, day_start, PALETTE[0])
    (data_dir / image.file_path).unlink()
    with pytest.raises(CommandError, match="failed: No frames left"):
        call_command("render", camera.name)


def test_a_path_climbing_out_of_the_data_dir_is_dropped(camera, add_frame, day_start, data_dir):
    add_frame(camera, day_start, PALETTE[0])
    sneaky = add_frame(camera, day_start + timedelta(minutes=1), PALETTE[1])
    sneaky.file_path = "../../etc/passwd"
    sneaky.save()

    batch = render.render_batch(create_batch(camera, Selection()).pk)

    assert batch.status == Status.COMPLETED and batch.total_frames == 1
    assert "outside the data directory" in batch.dropped_frames[0]["reason"]
