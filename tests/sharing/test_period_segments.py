"""Period videos refresh day by day: only new days are encoded, kept days survive the cleanup of their images."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone
from PIL import Image as PILImage

from batches import ffmpeg, render
from batches.models import BatchSegment, TimelapseBatch, TimelapseImage
from captures.models import Image
from operations.cleanup import run_cleanup
from sharing import periods
from sharing.models import PeriodVideo
from tests.batches import conftest as batch_fixtures
from tests.batches.conftest import PALETTE, SIZE, nearest, region_mean
from tests.storage.conftest import s3_media, s3_server

pytestmark = pytest.mark.django_db
camera, add_frame = batch_fixtures.camera, batch_fixtures.add_frame
# The local S3 server of the storage tests, for the bucket case.
__all__ = ["s3_media", "s3_server"]
Kind = PeriodVideo.Kind
BIG = (640, 480)


def enable(camera, kind) -> PeriodVideo:
    periods.set_enabled(camera, {kind})
    return PeriodVideo.objects.get(camera=camera, kind=kind)


def render_period(period: PeriodVideo) -> TimelapseBatch:
    period.refresh_from_db()
    batch = render.render_batch(period.batch_id)
    assert batch.status == TimelapseBatch.Status.COMPLETED, batch.error_message
    return batch


def colours(path) -> list[int]:
    """Which palette colour each decoded frame shows (the centre of the picture)."""
    return [nearest(region_mean(f, SIZE, (140, 100, 180, 140))) for f in ffmpeg.decode_frames(path)]


def staged(batch_id: int) -> int:
    return TimelapseImage.objects.filter(timelapse_batch_id=batch_id).count()


def midnight(days_ago: int):
    """UTC midnight `days_ago` days back. Images "today" would be in the future just after midnight,
    and a refresh takes only images up to now: tests put their newest day at 1 or more."""
    return timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)


def an_old_day_and_today(camera, add_frame, now) -> PeriodVideo:
    """A "last 7 days" video's oldest day (six days back, colour 0) and its newest (now, colour 1):
    the first leaves the period a day later. Enabled, not refreshed yet."""
    add_frame(camera, midnight(6) + timedelta(hours=1), PALETTE[0])
    add_frame(camera, now - timedelta(minutes=1), PALETTE[1])
    return enable(camera, Kind.LAST_7_DAYS)


def earlier_this_month():
    """A moment in the past of this (UTC) month, even in its first minute."""
    now = timezone.now()
    return now - (now - now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)) / 2


def test_a_refresh_encodes_only_the_days_with_new_images_and_joins_the_kept_ones(camera, add_frame, data_dir):
    """GIVEN a "whole project" video of two days
    WHEN a third day's images arrive, then one more image of that day
    THEN each refresh encodes only that day, and the video is every frame, in order, every time."""
    expected = []
    for day in range(2):
        for hour in range(2):
            expected.append(day * 2 + hour)
            add_frame(camera, midnight(3 - day) + timedelta(hours=hour + 1), PALETTE[expected[-1]])
    period = enable(camera, Kind.WHOLE_PROJECT)
    assert periods.refresh(period) == "queued"
    first = render_period(period)
    assert colours(data_dir / first.published_path) == expected
    encoded = dict(BatchSegment.objects.filter(batch=first).values_list("local_date", "rendered_at"))
    assert len(encoded) == 2
    assert staged(first.pk) == 0, "an encoded image is in its segment: the batch keeps nothing staged"

    add_frame(camera, midnight(1) + timedelta(minutes=10), PALETTE[4])
    add_frame(camera, midnight(1) + timedelta(minutes=20), PALETTE[5])
    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk)) == "queued"
    assert staged(first.pk) == 2, "only the new day's images are encoded"
    second = render_period(period)

    assert colours(data_dir / second.published_path) == [*expected, 4, 5]
    assert second.published_frames == 6
    after = dict(BatchSegment.objects.filter(batch=first).values_list("local_date", "rendered_at"))
    assert {day: after[day] for day in encoded} == encoded, "the kept days were not encoded again"
    assert len(after) == 3

    add_frame(camera, midnight(1) + timedelta(minutes=30), PALETTE[6])
    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk)) == "queued"
    assert staged(first.pk) == 3, "the changed day is encoded again whole, the others not"
    third = render_period(period)

    assert colours(data_dir / third.published_path) == [*expected, 4, 5, 6]
    # The two days before the latest are joined once and kept, so a refresh joins two files.
    assert third.selection["prefix"]["count"] == 2
    folder = data_dir / "segments" / f"batch-{first.pk}"
    assert [p.name for p in folder.glob("prefix-*")] == [third.selection["prefix"]["path"].rsplit("/", 1)[1]]
    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk)) == "current"
    # A new day with no image yet changes nothing in a whole project's video.
    assert (
        periods.refresh(PeriodVideo.objects.get(pk=period.pk), timezone.now() + timedelta(days=1))
        == "current"
    )


def badge(frame: bytes, box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.frombuffer(frame, np.uint8).reshape(BIG[1], BIG[0], 3)[y0:y1, x0:x1].astype(np.float32)


def test_the_whole_project_video_keeps_days_whose_images_the_cleanup_removed(camera, add_frame, data_dir):
    """GIVEN a "whole project" video with the Day badge of two days ten days ago, encoded
    WHEN the cleanup (1 day retention) deletes those images and a new day comes
    THEN the images were not protected, and the next video still shows Day 1, Day 2 and Day 10."""
    start = midnight(10)
    camera.day_counter_enabled, camera.day_counter_start_date = True, start.date()
    camera.day_overlay_position, camera.retention_days, camera.thinning_tiers = "top-left", 1, []
    camera.save()
    grey = (128, 128, 128)
    for day in range(2):
        for minute in range(2):
            add_frame(camera, start + timedelta(days=day, hours=12, minutes=minute), grey, size=BIG)
    period = enable(camera, Kind.WHOLE_PROJECT)
    periods.refresh(period)
    first = render_period(period)
    assert (first.published_day_range_start, first.published_day_range_end) == (1, 2)

    report = run_cleanup()

    assert sum(c.deleted for c in report.cameras) == 4, "encoded images are not held back by the video"
    assert not Image.objects.filter(camera=camera).exists()
    add_frame(camera, midnight(1) + timedelta(minutes=1), grey, size=BIG)
    add_frame(camera, midnight(1) + timedelta(minutes=2), grey, size=BIG)
    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk)) == "queued"
    assert staged(first.pk) == 2
    second = render_period(period)

    decoded = ffmpeg.decode_frames(data_dir / second.published_path)
    assert len(decoded) == second.published_frames == 6
    assert second.published_seconds == 6 / second.frame_rate
    assert (second.published_day_range_start, second.published_day_range_end) == (1, 10)
    # The badge's corner: the same within a day, another number from day to day.
    box = (8, 8, 90, 40)
    crops = [badge(frame, box) for frame in decoded]
    assert crops[0].mean() < 110, "a dark badge box is drawn over the grey picture"
    same_day = max(np.abs(crops[i] - crops[i + 1]).mean() for i in (0, 2, 4))
    other_day = min(np.abs(crops[i] - crops[i + 1]).mean() for i in (1, 3))
    assert other_day > 3 * same_day + 0.5, (same_day, other_day)


def test_a_day_that_leaves_the_last_7_days_leaves_the_video_and_its_segment_goes(camera, add_frame, data_dir):
    now = timezone.now()
    period = an_old_day_and_today(camera, add_frame, now)
    periods.refresh(period, now)
    first = render_period(period)
    assert colours(data_dir / first.published_path) == [0, 1]
    old = BatchSegment.objects.get(batch=first, local_date=midnight(6).date())

    tomorrow = now + timedelta(days=1)
    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk), tomorrow) == "queued"
    assert staged(first.pk) == 0, "nothing to encode, only a join"
    second = render_period(period)

    assert colours(data_dir / second.published_path) == [1]
    assert not BatchSegment.objects.filter(pk=old.pk).exists()
    assert not (data_dir / old.file_path).exists()


def test_deleting_a_period_batch_deletes_its_segments_and_the_cleanup_its_files(camera, add_frame, data_dir):
    add_frame(camera, earlier_this_month())
    period = enable(camera, Kind.THIS_MONTH)
    periods.refresh(period)
    batch = render_period(period)
    assert BatchSegment.objects.filter(batch=batch).count() == 1
    files = [data_dir / batch.published_path, data_dir / BatchSegment.objects.get(batch=batch).file_path]
    assert all(f.is_file() for f in files)

    TimelapseBatch.objects.filter(pk=batch.pk).delete()

    assert not BatchSegment.objects.exists()
    assert PeriodVideo.objects.get(pk=period.pk).batch_id is None
    # Past the grace period a render's files get before its row says so.
    run_cleanup(now=timezone.now() + timedelta(days=1))
    assert not any(f.exists() for f in files)


def test_a_failed_refresh_is_tried_again_by_the_next_one(camera, add_frame, data_dir):
    image = add_frame(camera, timezone.now() - timedelta(minutes=1), PALETTE[2])
    saved = (data_dir / image.file_path).read_bytes()
    (data_dir / image.file_path).unlink()
    period = enable(camera, Kind.LAST_7_DAYS)
    periods.refresh(period)
    period.refresh_from_db()
    failed = render.render_batch(period.batch_id)
    assert failed.status == TimelapseBatch.Status.FAILED and "No frames" in failed.error_message

    (data_dir / image.file_path).write_bytes(saved)
    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk)) == "queued"
    batch = render_period(period)

    assert colours(data_dir / batch.published_path) == [2]


def test_a_day_the_continuous_video_already_encoded_is_linked_not_encoded_again(camera, add_frame, data_dir):
    """GIVEN a camera whose continuous video has encoded two days
    WHEN its "whole project" video is made, and later a new image comes that only it has seen
    THEN it takes both days' continuous segments as they are, and encodes only the changed day itself."""
    from batches import continuous
    from batches.models import DaySegment

    camera.continuous_mode = "periodic"
    camera.save()
    for day in range(2):
        add_frame(camera, midnight(2 - day) + timedelta(hours=1), PALETTE[day])
    assert render.render_batch(continuous.request_update(camera, queue=False).pk).status == "completed"
    theirs = {
        s.local_date: (data_dir / s.file_path).stat().st_ino for s in DaySegment.objects.filter(camera=camera)
    }
    period = enable(camera, Kind.WHOLE_PROJECT)
    periods.refresh(period)
    first = render_period(period)

    ours = {
        s.local_date: (data_dir / s.file_path).stat().st_ino for s in BatchSegment.objects.filter(batch=first)
    }
    assert ours == theirs, "the same files, linked"
    assert colours(data_dir / first.published_path) == [0, 1]

    add_frame(camera, midnight(1) + timedelta(hours=2), PALETTE[2])
    periods.refresh(PeriodVideo.objects.get(pk=period.pk))
    second = render_period(period)

    after = {
        s.local_date: (data_dir / s.file_path).stat().st_ino for s in BatchSegment.objects.filter(batch=first)
    }
    day1, day2 = sorted(after)
    assert after[day1] == theirs[day1] and after[day2] != theirs[day2]
    assert colours(data_dir / second.published_path) == [0, 1, 2]


def test_an_info_page_of_a_period_video_gives_the_dates_of_its_kept_days(camera, add_frame, client):
    """The first day's images are cleaned up: the dates still start on that day."""
    from django.urls import reverse

    from sharing.models import Share

    first_day, last_day = midnight(40), midnight(1)
    old = add_frame(camera, first_day + timedelta(hours=9), PALETTE[0])
    add_frame(camera, last_day + timedelta(minutes=1), PALETTE[1])
    period = enable(camera, Kind.WHOLE_PROJECT)
    periods.refresh(period)
    render_period(period)
    period.refresh_from_db()
    Share.objects.filter(pk=period.share_id).update(is_active=True, share_type=Share.ShareType.INFO_PAGE)
    Image.objects.filter(pk=old.pk).delete()

    page = client.get(reverse("sharing:page", args=[period.share.token])).content.decode()

    assert f"{first_day:%-d %b %Y} \u2013 {last_day:%-d %b %Y}" in page


def test_a_period_video_compares_its_first_and_last_day_once_rendered(camera, add_frame, client):
    """Its frames are emptied by the render: the before/after days are the video's kept days."""
    from django.urls import reverse

    from sharing.models import Share, ShareCustomization

    for days_ago, colour in ((3, PALETTE[0]), (1, PALETTE[2])):
        add_frame(camera, midnight(days_ago) + timedelta(hours=12), colour)
    period = enable(camera, Kind.WHOLE_PROJECT)
    periods.refresh(period)
    render_period(period)
    period.refresh_from_db()
    assert staged(period.batch_id) == 0
    Share.objects.filter(pk=period.share_id).update(is_active=True, share_type=Share.ShareType.INFO_PAGE)
    ShareCustomization.objects.update_or_create(
        share_id=period.share_id, defaults={"display_options": {"before_after": True}}
    )
    token = period.share.token

    page = client.get(reverse("sharing:page", args=[token])).content.decode()
    pictures = [client.get(f"/share/{token}/compare/{side}.jpg") for side in ("before", "after")]

    assert "Before and after" in page
    assert f"on {midnight(3):%-d %B %Y}" in page and f"on {midnight(1):%-d %B %Y}" in page
    assert [p.status_code for p in pictures] == [200, 200]
    shown = [PILImage.open(io.BytesIO(b"".join(p.streaming_content))).convert("RGB") for p in pictures]
    assert [nearest(p.getpixel((p.width // 2, p.height // 2))) for p in shown] == [0, 2]


def test_with_media_in_a_bucket_the_days_are_read_from_it_and_the_video_written_back(
    s3_media, camera, add_frame, data_dir, tmp_path
):
    import shutil

    images = [add_frame(camera, midnight(1 - day) + timedelta(hours=1), PALETTE[day]) for day in range(2)]
    for image in images:  # into the bucket, and gone from the disk: only the bucket has them
        s3_media.put(image.file_path, (data_dir / image.file_path).read_bytes())
    shutil.rmtree(data_dir / "images")
    period = enable(camera, Kind.WHOLE_PROJECT)
    periods.refresh(period)

    batch = render_period(period)

    assert not (data_dir / batch.published_path).exists(), "the video lives in the bucket only"
    local = tmp_path / "out.mp4"
    local.write_bytes(s3_media.get(batch.published_path))
    assert colours(local) == [0, 1]
