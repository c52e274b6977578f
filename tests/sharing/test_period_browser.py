"""A period video's share page in a real headless Chromium, at desktop and phone sizes.

Screenshots go to tests/artifacts/sharing/period_video_<size>.png (ignored by git).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from batches import render
from sharing import periods
from sharing.models import PeriodVideo
from tests.batches import conftest as batch_fixtures
from tests.sharing.test_browser_pages import ARTIFACTS, SIZES, browser, no_sideways_scroll, shoot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
camera, add_frame = batch_fixtures.camera, batch_fixtures.add_frame
__all__ = ["browser"]


def test_a_period_videos_share_page_plays_every_day_on_desktop_and_phone(
    browser, live_server, camera, add_frame, data_dir
):
    """GIVEN a published "whole project" video of three days (Day badge on), refreshed once after a new day
    THEN its stable link plays a video as long as all its frames, large and whole, without sideways scroll."""
    # The newest day is yesterday: today's would be in the future just after midnight.
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)
    camera.name, camera.day_counter_enabled, camera.day_counter_start_date = "North gate", True, start.date()
    camera.save()
    for day in range(2):
        for n in range(15):
            add_frame(camera, start + timedelta(days=day, hours=8, minutes=n), batch_fixtures.PALETTE[n % 12])
    periods.set_enabled(camera, {PeriodVideo.Kind.WHOLE_PROJECT})
    period = PeriodVideo.objects.get(camera=camera, kind=PeriodVideo.Kind.WHOLE_PROJECT)
    periods.refresh(period)
    period.refresh_from_db()
    period.share.is_active = True
    period.share.save()
    render.render_batch(period.batch_id)
    for n in range(15):
        add_frame(camera, start + timedelta(days=2, minutes=n), batch_fixtures.PALETTE[(n + 3) % 12])
    assert periods.refresh(PeriodVideo.objects.get(pk=period.pk)) == "queued"
    batch = render.render_batch(period.batch_id)
    assert batch.published_frames == 45

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        browser.set_window_size(width, height)
        browser.get(f"{live_server.url}/share/{period.share.token}")
        duration = wait_for(
            browser, "const v = document.querySelector('video'); return v.readyState >= 1 && v.duration;"
        )
        box = browser.execute_script(
            "const r = document.querySelector('video').getBoundingClientRect();"
            "return {w: r.width, h: r.height, bottom: r.bottom, vw: innerWidth, vh: innerHeight};"
        )
        shoot(browser, "period_video", width, height)

        assert abs(duration - 45 / batch.frame_rate) < 0.1, duration
        # Big and whole: most of the width or of the height, inside the window.
        assert box["w"] >= 0.6 * box["vw"] or box["h"] >= 0.6 * box["vh"], box
        assert box["bottom"] <= box["vh"]
        assert no_sideways_scroll(browser)
        assert "North gate: whole project" in browser.title
