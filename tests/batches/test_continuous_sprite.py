"""The continuous video's scrub sprite: made from the key frames of its join, one per day at least,
replaced with every update, and offered by its share page like a batch render's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings

from batches.models import TimelapseBatch
from tests.batches import sprites
from tests.batches.conftest import PALETTE
from tests.batches.test_continuous import update
from tests.batches.test_continuous_renditions import add_days
from tests.factories import make_share


def add_solid_days(camera, add_frame, start, days, per_day, first=0) -> list[int]:
    """`days` days of `per_day` frames, each day one palette colour (day 0 is PALETTE[first])."""
    expected = []
    for day in range(days):
        colour = (first + day) % len(PALETTE)
        for i in range(per_day):
            add_frame(camera, start + timedelta(days=day, hours=i), PALETTE[colour])
            expected.append(colour)
    return expected


def test_the_sprite_shows_every_day_in_order_and_follows_each_update(camera, add_frame, day_start, data_dir):
    """GIVEN five days of four frames, each day its own colour
    WHEN the continuous video is rendered, then a sixth day arrives
    THEN its sprite has one thumbnail per day (each day starts with a key frame, and the days hold
    no other), in order, and the update publishes a new sprite and retires the old one."""
    fps = settings.TIMELAPSER_CONTINUOUS_FPS
    expected = add_solid_days(camera, add_frame, day_start, days=5, per_day=4)
    first = update(camera)
    assert sprites.check(data_dir, first, expected, fps) == [0, 1, 2, 3, 4]

    expected += add_solid_days(camera, add_frame, day_start + timedelta(days=5), days=1, per_day=4, first=5)
    second = update(camera)
    assert sprites.check(data_dir, second, expected, fps) == [0, 1, 2, 3, 4, 5]
    retired = {r["path"] for r in second.retired_outputs}
    assert {first.published_renditions["sprite"], first.published_renditions["vtt"]} <= retired
    assert second.published_renditions["sprite"] != first.published_renditions["sprite"]


def test_more_key_frames_than_thumbnails_are_thinned_out_evenly(camera, add_frame, day_start, data_dir):
    """GIVEN twelve one-frame days (every frame a key frame) and a sprite of ten thumbnails
    THEN ten are kept, spread over the whole video, each showing the frame its cue starts at."""
    fps = settings.TIMELAPSER_CONTINUOUS_FPS
    expected = add_solid_days(camera, add_frame, day_start, days=12, per_day=1)
    batch = update(camera)
    shown = sprites.check(data_dir, batch, expected, fps)
    assert len(shown) == 10
    assert shown[0] == 0 and shown[-1] == 11, "from the first day to the last"
    assert shown == sorted(shown), "in the order of the video"


def test_above_the_web_limit_the_sprite_comes_from_the_web_join(
    camera, add_frame, day_start, data_dir, settings
):
    settings.TIMELAPSER_WEB_RENDITION_HEIGHT = 240
    expected = add_days(camera, add_frame, day_start, days=3, per_day=2)
    batch = update(camera)
    assert "web" in batch.published_renditions
    # add_days gives each frame its own colour: the thumbnails are the days' first frames.
    assert sprites.check(data_dir, batch, expected, settings.TIMELAPSER_CONTINUOUS_FPS) == [0, 2, 4]


@pytest.mark.django_db
def test_the_share_page_of_a_continuous_video_offers_its_previews(
    client, camera, add_frame, day_start, data_dir
):
    add_solid_days(camera, add_frame, day_start, days=3, per_day=2)
    batch = update(camera)
    assert batch.batch_type == TimelapseBatch.BatchType.CONTINUOUS
    share = make_share([batch])
    _, cues, sprite = sprites.page_previews(client, share)
    assert cues == (data_dir / batch.published_renditions["vtt"]).read_text()
    assert sprite == (data_dir / batch.published_renditions["sprite"]).read_bytes()


def test_key_frames_within_a_long_day_give_it_more_thumbnails(camera, add_frame, day_start, data_dir):
    """GIVEN one day of 300 frames, its colour changing at frame 150 (x264 puts a key frame at a
    scene cut, and one at least every 250 frames)
    THEN the sprite has thumbnails inside the day, each the picture at its cue's start."""
    fps = settings.TIMELAPSER_CONTINUOUS_FPS
    expected = [0 if i < 150 else 1 for i in range(300)]
    for i, colour in enumerate(expected):
        add_frame(camera, day_start + timedelta(minutes=i), PALETTE[colour])
    batch = update(camera)
    shown = sprites.check(data_dir, batch, expected, fps)
    assert shown[0] == 0 and 1 in shown, "the second half of the day is previewed too"
