"""A period video's scrub sprite: made from the key frames of its join of kept days, refreshed with it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sharing import periods
from sharing.models import PeriodVideo
from tests.batches import conftest as batch_fixtures
from tests.batches import sprites
from tests.batches.conftest import PALETTE
from tests.factories import make_share
from tests.sharing.test_period_segments import enable, midnight, render_period

pytestmark = pytest.mark.django_db
camera, add_frame = batch_fixtures.camera, batch_fixtures.add_frame


def test_a_period_video_has_a_sprite_of_its_days_refreshed_with_it(camera, add_frame, data_dir):
    """GIVEN a "whole project" video of three days, each its own colour
    WHEN it is rendered, then refreshed with a fourth day
    THEN each time its sprite has one thumbnail per day, in order, at the day's first frame,
    and the refresh retires the old sprite and cues."""
    expected = []
    for day in range(3):
        for hour in range(3):
            add_frame(camera, midnight(3 - day) + timedelta(hours=hour + 1), PALETTE[day])
            expected.append(day)
    period = enable(camera, PeriodVideo.Kind.WHOLE_PROJECT)
    assert periods.refresh(period) == "queued"
    first = render_period(period)
    assert sprites.check(data_dir, first, expected, first.frame_rate) == [0, 1, 2]

    add_frame(camera, midnight(0) + timedelta(minutes=10), PALETTE[3])
    expected.append(3)
    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk)) == "queued"
    second = render_period(period)
    assert sprites.check(data_dir, second, expected, second.frame_rate) == [0, 1, 2, 3]
    retired = {r["path"] for r in second.retired_outputs}
    assert {first.published_renditions["sprite"], first.published_renditions["vtt"]} <= retired


def test_the_share_page_of_a_period_video_offers_its_previews(camera, add_frame, client):
    for day in range(2):
        add_frame(camera, midnight(2 - day) + timedelta(hours=1), PALETTE[day])
    period = enable(camera, PeriodVideo.Kind.WHOLE_PROJECT)
    periods.refresh(period)
    batch = render_period(period)
    share = make_share([batch])
    html = client.get(f"/share/{share.token}").content.decode()
    assert f"/share/{share.token}/previews/" in html and 'kind="metadata"' in html
