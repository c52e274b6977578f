"""A period video taller than the web limit publishes a web rendition: a join of per-day web segments,
each encoded from the same decode as its full day, kept, refreshed and removed with it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from batches import continuous, ffmpeg, render, renditions
from batches.models import BatchSegment, DaySegment, TimelapseBatch
from captures.models import Image
from operations.cleanup import run_cleanup
from sharing import periods
from sharing.models import PeriodVideo
from tests.batches import conftest as batch_fixtures
from tests.batches import sprites
from tests.batches.conftest import PALETTE, SIZE, nearest
from tests.factories import make_share
from tests.sharing.test_period_segments import an_old_day_and_today, enable, midnight, render_period
from tests.storage.conftest import s3_media, s3_server

pytestmark = pytest.mark.django_db
camera, add_frame = batch_fixtures.camera, batch_fixtures.add_frame
# The local S3 server of the storage tests, for the bucket case.
__all__ = ["s3_media", "s3_server"]
Kind = PeriodVideo.Kind
# The 320x240 test frames against a 90-line web limit: a 120x90 web rendition. Narrower than a
# sprite thumbnail (160), so the sprite's tiles tell which join it was made from.
WEB_LIMIT = 90
WEB = (120, 90)


@pytest.fixture
def small_web(settings):
    settings.TIMELAPSER_WEB_RENDITION_HEIGHT = WEB_LIMIT


def frame_colours(path) -> list[int]:
    return [nearest(tuple(f[:3])) for f in ffmpeg.decode_frames(path, size=(1, 1))]


def add_days(
    camera, add_frame, first_days_ago: int, days: int, per_day: int = 2, first: int = 0
) -> list[int]:
    """`per_day` frames on each of `days` days from `first_days_ago` days back, each its own colour."""
    expected = []
    for day in range(days):
        for i in range(per_day):
            index = (first + day * per_day + i) % len(PALETTE)
            add_frame(camera, midnight(first_days_ago - day) + timedelta(hours=i + 1), PALETTE[index])
            expected.append(index)
    return expected


def web_file(data_dir, batch):
    return data_dir / batch.published_renditions["web"]["path"]


def encoded(batch) -> dict:
    """When each day was last encoded (or linked)."""
    return dict(BatchSegment.objects.filter(batch=batch).values_list("local_date", "rendered_at"))


def twins(batch, data_dir) -> dict:
    """Each day's web segment, if it has one."""
    return {
        s.local_date: data_dir / renditions.web_segment(s.file_path)
        for s in BatchSegment.objects.filter(batch=batch)
    }


def test_a_tall_period_video_publishes_a_web_join_of_every_day_and_refreshes_it(
    camera, add_frame, data_dir, small_web
):
    """GIVEN a "whole project" video of two days from frames taller than the web limit
    WHEN it is rendered, then refreshed after a third day
    THEN each time the web rendition is every frame at the web size, the refresh encodes only the
    new day, the earlier days' web join is cached like the full one, and the sprite is the web join's."""
    expected = add_days(camera, add_frame, 4, days=2)
    period = enable(camera, Kind.WHOLE_PROJECT)
    assert periods.refresh(period) == "queued"
    first = render_period(period)

    full = data_dir / first.published_path
    assert ffmpeg.video_size(full) == SIZE and ffmpeg.video_size(web_file(data_dir, first)) == WEB
    assert frame_colours(full) == frame_colours(web_file(data_dir, first)) == expected
    assert first.published_renditions["web"]["size"] == web_file(data_dir, first).stat().st_size
    assert all(ffmpeg.video_size(path) == WEB for path in twins(first, data_dir).values())
    cues = sprites.parse((data_dir / first.published_renditions["vtt"]).read_text())
    assert cues[0].box[2] == WEB[0], "the thumbnails come from the web join"
    before = encoded(first)

    expected += add_days(camera, add_frame, 2, days=1, first=4)
    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk)) == "queued"
    second = render_period(period)

    after = encoded(second)
    assert len(after) == 3 and {day: after[day] for day in before} == before, "only the new day is encoded"
    web = web_file(data_dir, second)
    assert ffmpeg.video_size(web) == WEB
    assert frame_colours(web) == frame_colours(data_dir / second.published_path) == expected
    assert len(ffmpeg.decode_frames(web, size=(1, 1))) == second.published_frames == 6
    prefix = second.selection["prefix"]
    assert prefix["count"] == 2 and (data_dir / prefix["web_path"]).is_file()
    assert first.published_renditions["web"]["path"] in {r["path"] for r in second.retired_outputs}

    expected += add_days(camera, add_frame, 1, days=1, first=6)
    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk)) == "queued"
    third = render_period(period)

    assert frame_colours(web_file(data_dir, third)) == expected, "the cached web join and the new days"
    assert third.selection["prefix"]["count"] == 3
    assert not (data_dir / prefix["web_path"]).exists(), "the superseded web prefix went"
    folder = data_dir / "segments" / f"batch-{third.pk}"
    assert sorted(p.name for p in folder.glob("prefix-*")) == sorted(
        third.selection["prefix"][key].rsplit("/", 1)[1] for key in ("path", "web_path")
    )


def test_a_period_video_within_the_web_limit_has_no_web_rendition(camera, add_frame, data_dir, settings):
    settings.TIMELAPSER_WEB_RENDITION_HEIGHT = SIZE[1]
    expected = add_days(camera, add_frame, 2, days=2)
    period = enable(camera, Kind.WHOLE_PROJECT)
    periods.refresh(period)
    batch = render_period(period)

    assert "web" not in batch.published_renditions, "the full video is the one the page streams"
    assert frame_colours(data_dir / batch.published_path) == expected
    assert not list((data_dir / "segments").rglob("*.web.mp4")), "each day encoded once, full only"


def test_a_day_without_a_web_segment_is_encoded_again_or_the_video_goes_without_one(
    camera, add_frame, data_dir, settings
):
    """GIVEN a "whole project" video of three days made without web segments (within the web limit)
    WHEN the limit is lowered: the first refresh re-encodes the days with their web segments;
    then the video is made again after a first day whose images are gone lost its web segment
    THEN that render publishes the video, every day of it, but no web rendition."""
    expected = add_days(camera, add_frame, 4, days=3)
    period = enable(camera, Kind.WHOLE_PROJECT)
    periods.refresh(period)
    first = render_period(period)
    assert "web" not in first.published_renditions
    before = encoded(first)

    settings.TIMELAPSER_WEB_RENDITION_HEIGHT = WEB_LIMIT
    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk)) == "queued", "no new image is needed"
    second = render_period(period)

    kept = encoded(second)
    assert all(kept[day] > at for day, at in before.items()), "every day re-encoded"
    assert frame_colours(web_file(data_dir, second)) == expected

    oldest = min(kept)
    twins(second, data_dir)[oldest].unlink()  # as a segment made before web renditions would be
    Image.objects.filter(camera=camera, captured_at__lt=midnight(3)).delete()
    expected += add_days(camera, add_frame, 1, days=1, first=6)
    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk)) == "queued"
    third = render_period(period)

    assert "web" not in third.published_renditions, "no web rendition with a day missing"
    assert frame_colours(data_dir / third.published_path) == expected, "the full video has every day"
    assert second.published_renditions["web"]["path"] in {r["path"] for r in third.retired_outputs}
    assert encoded(third)[oldest] == kept[oldest], "its images are gone: the day is kept as it is"


def test_a_day_leaving_the_period_takes_its_web_segment_with_it(camera, add_frame, data_dir, small_web):
    now = timezone.now()
    period = an_old_day_and_today(camera, add_frame, now)
    periods.refresh(period, now)
    first = render_period(period)
    old = twins(first, data_dir)[midnight(6).date()]
    assert old.is_file() and frame_colours(web_file(data_dir, first)) == [0, 1]

    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk), now + timedelta(days=1)) == "queued"
    second = render_period(period)

    assert frame_colours(web_file(data_dir, second)) == [1]
    assert not old.exists()
    assert [p.name for p in old.parent.glob("*.web.mp4")] == [f"{now.date().isoformat()}.web.mp4"]


def test_a_borrowed_continuous_day_brings_its_web_segment_or_is_encoded(
    camera, add_frame, data_dir, small_web
):
    """GIVEN a continuous video of three days above the web limit, the first day's web segment lost
    WHEN the "whole project" video is made
    THEN the days with both continuous segments are linked, the first one is encoded here (its
    continuous file untouched: the link made before the missing one went first), and the web
    join has every frame."""
    camera.continuous_mode = "periodic"
    camera.save()
    expected = add_days(camera, add_frame, 3, days=3)
    assert render.render_batch(continuous.request_update(camera, queue=False).pk).status == "completed"
    theirs = {s.local_date: s.file_path for s in DaySegment.objects.filter(camera=camera)}
    day1, day2, day3 = sorted(theirs)
    (data_dir / renditions.web_segment(theirs[day1])).unlink()
    kept = (data_dir / theirs[day1]).read_bytes()

    period = enable(camera, Kind.WHOLE_PROJECT)
    periods.refresh(period)
    batch = render_period(period)

    ours = {s.local_date: s.file_path for s in BatchSegment.objects.filter(batch=batch)}
    for day in (day2, day3):
        for kind in ("full", "web"):
            mine, source = (data_dir / renditions.segment_file(p[day], kind) for p in (ours, theirs))
            assert mine.stat().st_ino == source.stat().st_ino, (day, kind)
    assert (data_dir / ours[day1]).stat().st_ino != (data_dir / theirs[day1]).stat().st_ino, "encoded"
    assert (data_dir / theirs[day1]).read_bytes() == kept, "the continuous day is untouched"
    assert ffmpeg.video_size(twins(batch, data_dir)[day1]) == WEB
    assert frame_colours(web_file(data_dir, batch)) == expected


def test_the_share_page_streams_the_web_rendition_and_downloads_the_full_one(
    camera, add_frame, client, data_dir, small_web
):
    add_days(camera, add_frame, 2, days=2)
    period = enable(camera, Kind.WHOLE_PROJECT)
    periods.refresh(period)
    batch = render_period(period)
    share = make_share([batch], download_enabled=True)
    item = share.share_batches.get().pk

    streamed = client.get(f"/share/{share.token}/video/{item}.mp4")
    download = client.get(f"/share/{share.token}/download/{item}")

    assert streamed.status_code == 200 and download.status_code == 200
    assert b"".join(streamed.streaming_content) == web_file(data_dir, batch).read_bytes()
    assert b"".join(download.streaming_content) == (data_dir / batch.published_path).read_bytes()


def test_deleting_a_period_batch_lets_the_sweep_take_its_web_files(camera, add_frame, data_dir, small_web):
    add_days(camera, add_frame, 3, days=3)
    period = enable(camera, Kind.WHOLE_PROJECT)
    periods.refresh(period)
    batch = render_period(period)
    folder = data_dir / "segments" / f"batch-{batch.pk}"
    files = [web_file(data_dir, batch), *folder.glob("*.web.mp4")]
    assert len(files) == 1 + 3 + 1, "the published web join, three web segments and the web prefix"

    TimelapseBatch.objects.filter(pk=batch.pk).delete()
    # Past the grace period a render's files get before its row says so.
    run_cleanup(now=timezone.now() + timedelta(days=1))

    assert not any(f.exists() for f in files)


def test_with_media_in_a_bucket_the_web_join_is_published_there_and_its_days_stay_local(
    s3_media, camera, add_frame, client, data_dir, small_web
):
    """The segments of a period video live on the render host's disk (README, "Storage"), their web
    twins too; the web join is published to the bucket like the full one, and the player streams it."""
    import httpx

    expected = add_days(camera, add_frame, 2, days=2)
    for image in Image.objects.filter(camera=camera):  # the frames are read from the bucket
        s3_media.put(image.file_path, (data_dir / image.file_path).read_bytes())
    period = enable(camera, Kind.WHOLE_PROJECT)
    periods.refresh(period)
    batch = render_period(period)

    web = batch.published_renditions["web"]["path"]
    listing = s3_media.listing()
    assert f"site/{web}" in listing and f"site/{batch.published_path}" in listing
    assert not (data_dir / web).exists(), "published to the bucket only"
    assert all(path.is_file() for path in twins(batch, data_dir).values())
    assert not [key for key in listing if key.startswith("site/segments/")]
    share = make_share([batch], download_enabled=True)
    item = share.share_batches.get().pk
    streamed = httpx.get(client.get(f"/share/{share.token}/video/{item}.mp4")["Location"], timeout=30)
    assert streamed.content == s3_media.get(web)
    local = data_dir / "streamed.mp4"
    local.write_bytes(streamed.content)
    assert ffmpeg.video_size(local) == WEB and frame_colours(local) == expected


def test_with_media_in_a_bucket_a_day_leaving_the_period_goes_from_the_render_hosts_disk(
    s3_media, camera, add_frame, data_dir, small_web
):
    """The segments are only on the render host: deleting the (absent) bucket key alone left them there."""
    now = timezone.now()
    period = an_old_day_and_today(camera, add_frame, now)
    for image in Image.objects.filter(camera=camera):
        s3_media.put(image.file_path, (data_dir / image.file_path).read_bytes())
    periods.refresh(period, now)
    first = render_period(period)
    old_day = BatchSegment.objects.get(batch=first, local_date=midnight(6).date())
    old = [data_dir / old_day.file_path, twins(first, data_dir)[old_day.local_date]]
    assert all(path.is_file() for path in old)

    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk), now + timedelta(days=1)) == "queued"
    second = render_period(period)

    assert frame_colours(s3_file(s3_media, data_dir, second.published_renditions["web"]["path"])) == [1]
    assert not any(path.exists() for path in old)


def s3_file(s3_media, data_dir, key):
    local = data_dir / "fetched.mp4"
    local.write_bytes(s3_media.get(key))
    return local
