"""Renditions and the continuous video's day segments with media in the bucket (moto's server mode):
render workers download frames and segments, upload every output, and shares stream the web one."""

from __future__ import annotations

import shutil
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from batches import continuous, ffmpeg, render, renditions
from batches.models import DaySegment, TimelapseBatch
from batches.selection import Selection, create_batch
from tests.batches import sprites
from tests.batches.conftest import PALETTE, nearest
from tests.factories import make_camera, make_share

pytestmark = pytest.mark.django_db
SOURCE = (640, 480)


@pytest.fixture
def small_web(settings):
    settings.TIMELAPSER_WEB_RENDITION_HEIGHT = 240
    settings.SHARING_MEDIA_RATE_LIMIT = "10000/m"


def into_bucket(s3_media, data_dir, images):
    """The frames in the bucket only, as an ingest worker with a bucket leaves them."""
    for image in images:
        s3_media.put(image.file_path, (data_dir / image.file_path).read_bytes())
    shutil.rmtree(data_dir / "images")


def colours_of(s3_media, relative, tmp_path):
    local = tmp_path / relative.replace("/", "_")
    local.write_bytes(s3_media.get(relative))
    return [nearest(tuple(f[:3])) for f in ffmpeg.decode_frames(local, size=(1, 1))], ffmpeg.video_size(local)


def test_every_rendition_is_uploaded_and_the_share_streams_the_web_one(
    s3_media, add_frame, data_dir, tmp_path, client, small_web
):
    camera = make_camera(timezone="UTC")
    start = timezone.now().replace(microsecond=0) - timedelta(days=3)
    into_bucket(s3_media, data_dir, [add_frame(camera, start + timedelta(minutes=i), PALETTE[i], size=SOURCE)
                                     for i in range(6)])  # fmt: skip
    batch = create_batch(camera, Selection(fps=6))
    TimelapseBatch.objects.filter(pk=batch.pk).update(selection={**batch.selection, "renditions": "web,full"})

    batch = render.render_batch(batch.pk)

    assert batch.status == TimelapseBatch.Status.COMPLETED, batch.error_message
    files = batch.published_renditions
    assert set(files) == {"web", "poster", "sprite", "vtt"}
    listing = s3_media.listing()
    for value in [batch.published_path, *files.values()]:
        relative = value["path"] if isinstance(value, dict) else value
        assert f"site/{relative}" in listing
        assert not (data_dir / relative).exists(), "outputs live in the bucket only"
    assert colours_of(s3_media, files["web"]["path"], tmp_path) == (list(range(6)), (320, 240))
    assert colours_of(s3_media, batch.published_path, tmp_path) == (list(range(6)), SOURCE)
    assert files["web"]["size"] == len(s3_media.get(files["web"]["path"]))
    assert not list(data_dir.rglob("*.part")), "no half-written file left on the worker"

    share = make_share([batch], download_enabled=True)
    link = share.share_batches.get()
    streamed = httpx.get(client.get(f"/share/{share.token}/video/{link.pk}.mp4")["Location"], timeout=30)
    assert streamed.content == s3_media.get(files["web"]["path"]), "the player gets the web rendition"
    downloaded = httpx.get(client.get(f"/share/{share.token}/download/{link.pk}")["Location"], timeout=30)
    assert downloaded.content == s3_media.get(batch.published_path), "downloads get the full one"
    cues = client.get(f"/share/{share.token}/previews/{link.pk}/sprite.vtt")
    assert (
        cues.status_code == 200 and cues.content.startswith(b"WEBVTT") and b"sprite.jpg#xywh=" in cues.content
    )
    sprite = client.get(f"/share/{share.token}/previews/{link.pk}/sprite.jpg")
    assert httpx.get(sprite["Location"], timeout=30).content[:2] == b"\xff\xd8"


def test_continuous_segments_go_to_the_bucket_and_another_worker_joins_them(
    s3_media, add_frame, data_dir, tmp_path, small_web, client
):
    """GIVEN a continuous camera whose media is in the bucket WHEN a worker renders two days and
    another worker, with none of the first one's files, renders a third THEN both joins hold every
    frame in order, at full size and at the web size, and the segments are in the bucket."""
    camera = make_camera(timezone="UTC", continuous_mode="periodic")
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=10)
    images = [add_frame(camera, start + timedelta(days=d, hours=h), PALETTE[d * 2 + h], size=SOURCE)
              for d in range(2) for h in range(2)]  # fmt: skip
    into_bucket(s3_media, data_dir, images)

    first = render.render_batch(continuous.request_update(camera, queue=False).pk)
    assert first.status == TimelapseBatch.Status.COMPLETED, first.error_message
    listing = s3_media.listing()
    for segment in DaySegment.objects.filter(camera=camera):
        assert f"site/{segment.file_path}" in listing
        assert f"site/{renditions.web_segment(segment.file_path)}" in listing

    shutil.rmtree(data_dir / "segments")  # the next update runs on a worker without them
    more = [
        add_frame(camera, start + timedelta(days=2, hours=h), PALETTE[4 + h], size=SOURCE) for h in range(2)
    ]
    into_bucket(s3_media, data_dir, more)
    second = render.render_batch(continuous.request_update(camera, queue=False).pk)

    assert second.status == TimelapseBatch.Status.COMPLETED, second.error_message
    assert second.total_frames == 6
    assert colours_of(s3_media, second.published_path, tmp_path) == (list(range(6)), SOURCE)
    web = second.published_renditions["web"]["path"]
    assert colours_of(s3_media, web, tmp_path) == (list(range(6)), (320, 240))
    assert f"site/{second.published_renditions['poster']}" in s3_media.listing()
    # The scrub sprite and cues are in the bucket only, one thumbnail per day, served from there.
    cues = s3_media.get(second.published_renditions["vtt"])
    fps = second.frame_rate
    assert [round(c.start * fps) for c in sprites.parse(cues.decode())] == [0, 2, 4]
    assert not (data_dir / second.published_renditions["sprite"]).exists()
    share = make_share([second])
    link = share.share_batches.get()
    assert client.get(f"/share/{share.token}/previews/{link.pk}/sprite.vtt").content == cues
    sprite = client.get(f"/share/{share.token}/previews/{link.pk}/sprite.jpg")
    assert httpx.get(sprite["Location"], timeout=30).content == s3_media.get(
        second.published_renditions["sprite"]
    )
    rendered = {s.local_date: s.rendered_at for s in DaySegment.objects.filter(camera=camera)}
    assert len(rendered) == 3 and sorted(rendered.values())[0] < first.completed_at, "old days not re-encoded"
    # No second copy on the render host of the days its prefix holds; the latest day is joined next.
    days = DaySegment.objects.filter(camera=camera).order_by("local_date")
    assert [(data_dir / s.file_path).exists() for s in days] == [False, False, True]
    assert [(data_dir / renditions.web_segment(s.file_path)).exists() for s in days] == [False, False, True]


def test_a_stale_local_segment_copy_is_replaced_by_the_bucket_one(s3_media, data_dir):
    """Another host re-encoded the day under the same name: the copy left here is not joined."""
    from batches import segmentstore

    relative = "segments/1/2026-01-01.mp4"
    s3_media.put(relative, b"the day as re-encoded elsewhere")
    stale = data_dir / relative
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")

    assert segmentstore.local(relative).read_bytes() == b"the day as re-encoded elsewhere"
    stale.unlink()
    assert segmentstore.local(relative).read_bytes() == b"the day as re-encoded elsewhere", (
        "fetched when absent"
    )
