"""The continuous video's renditions: a web join of per-day web segments beside the full join, and a poster."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PIL import Image as PILImage

from batches import ffmpeg, renditions
from batches.models import DaySegment
from tests.batches.conftest import PALETTE, nearest
from tests.batches.test_continuous import update

SOURCE = (640, 480)


@pytest.fixture
def small_web(settings):
    # A 480p source with a 240p web limit needs a second encode per day, at test-friendly sizes.
    settings.TIMELAPSER_WEB_RENDITION_HEIGHT = 240


def frame_colours(path):
    return [nearest(tuple(f[:3])) for f in ffmpeg.decode_frames(path, size=(1, 1))]


def add_days(camera, add_frame, start, days, per_day, first=0):
    expected = []
    for day in range(days):
        for i in range(per_day):
            index = (first + day * per_day + i) % len(PALETTE)
            add_frame(camera, start + timedelta(days=day, hours=i), PALETTE[index], size=SOURCE)
            expected.append(index)
    return expected


def test_web_join_holds_every_frame_and_follows_each_update(
    camera, add_frame, day_start, data_dir, small_web
):
    expected = add_days(camera, add_frame, day_start, days=3, per_day=2)
    first = update(camera)

    web = data_dir / first.published_renditions["web"]["path"]
    full = data_dir / first.published_path
    assert ffmpeg.video_size(full) == SOURCE and ffmpeg.video_size(web) == (320, 240)
    assert frame_colours(full) == frame_colours(web) == expected
    assert first.published_renditions["web"]["size"] == web.stat().st_size
    for segment in DaySegment.objects.filter(camera=camera):
        assert ffmpeg.video_size(data_dir / renditions.web_segment(segment.file_path)) == (320, 240)
    with PILImage.open(data_dir / first.published_renditions["poster"]) as poster:
        assert poster.format == "JPEG" and poster.size == SOURCE

    expected += add_days(camera, add_frame, day_start + timedelta(days=3), days=1, per_day=2, first=6)
    second = update(camera)

    web = data_dir / second.published_renditions["web"]["path"]
    assert frame_colours(web) == frame_colours(data_dir / second.published_path) == expected
    prefix = second.selection["prefix"]
    assert (data_dir / prefix["web_path"]).is_file(), "the earlier days' web join is cached like the full one"
    retired = {r["path"] for r in second.retired_outputs}
    assert first.published_renditions["web"]["path"] in retired


def test_a_video_within_the_web_limit_has_no_web_segments(camera, add_frame, day_start, data_dir):
    add_days(camera, add_frame, day_start, days=2, per_day=2)
    batch = update(camera)
    assert "web" not in batch.published_renditions, "the full video is the one the page streams"
    assert not list((data_dir / "segments").rglob("*.web.mp4"))


def test_lowering_the_web_limit_adds_web_segments_to_days_already_encoded(
    camera, add_frame, day_start, data_dir, settings
):
    expected = add_days(camera, add_frame, day_start, days=2, per_day=2)
    first = update(camera)
    assert "web" not in first.published_renditions

    settings.TIMELAPSER_WEB_RENDITION_HEIGHT = 240
    second = update(camera)

    web = data_dir / second.published_renditions["web"]["path"]
    assert ffmpeg.video_size(web) == (320, 240)
    assert frame_colours(web) == expected
