"""Scrubbing the joined videos' share pages in a real headless Chromium, at desktop and phone sizes:
the camera's continuous video and a period video ("whole project").

Their sprites are made from the key frames of the join (batches/scrubsprite.py), not from a
decode as a batch render's are. The viewer presses the player's own seek bar early and late and
holds it there; the preview must be the tile that the page's WebVTT cue for the time sought names,
whole inside the window, and that tile must show the day sought (each day is its own colour).
A press, not a hover: Chromium's own seek bar seeks only when pressed, and that seek is what
static/sharing/scrub.js shows the preview on.
Screenshots go to tests/artifacts/sharing/scrub_<page>_<early|late>_<size>.png (ignored by git).
"""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import urljoin

import pytest
from PIL import Image as PILImage

from sharing import periods
from sharing.models import PeriodVideo, Share
from tests.batches import conftest as batch_fixtures
from tests.batches import sprites
from tests.batches.conftest import PALETTE, nearest
from tests.batches.test_continuous import update
from tests.batches.test_continuous_sprite import add_solid_days
from tests.factories import make_share
from tests.sharing.test_browser_pages import ARTIFACTS, SIZES, browser, wait_for
from tests.sharing.test_period_segments import enable, midnight, render_period
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
camera, add_frame, day_start = batch_fixtures.camera, batch_fixtures.add_frame, batch_fixtures.day_start
__all__ = ["browser"]

DAYS, FRAMES_PER_DAY = 3, 20
# Where along the seek bar the viewer presses: in the first day, and in the last.
PRESSES = {"early": 0.15, "late": 0.85}
# Chromium's own controls draw the seek bar along the player's bottom edge, this far above it (px).
SEEK_BAR_ABOVE_BOTTOM = 22

# The preview as the viewer sees it, once the player has finished seeking away from arguments[0]
# (the time before the press) and shows it; null until then.
SHOWN_PREVIEW = """
const video = document.querySelector('video'), box = document.querySelector('.scrub-preview');
if (!box || box.hidden || video.seeking || video.currentTime === arguments[0]) return null;
const r = box.getBoundingClientRect();
return {time: video.currentTime, duration: video.duration, cue: box.dataset.cue,
        image: box.style.backgroundImage, position: box.style.backgroundPosition,
        tileWidth: box.clientWidth, tileHeight: box.clientHeight,
        left: r.left, right: r.right, top: r.top,
        centreX: (r.left + r.right) / 2, centreY: (r.top + r.bottom) / 2,
        windowWidth: innerWidth, pixelRatio: devicePixelRatio,
        bottom: r.bottom, video: video.getBoundingClientRect().toJSON(),
        track: document.querySelector('track[label=previews]').src};
"""


def press_seek_bar(browser, fraction: float) -> None:
    """Press the player's own seek bar `fraction` of the way along and keep the button down."""
    from selenium.webdriver.common.action_chains import ActionChains

    video = browser.find_element("css selector", "video")
    size = video.size  # the offsets below are from the player's centre
    across = round(size["width"] * (fraction - 0.5))
    down = size["height"] // 2 - SEEK_BAR_ABOVE_BOTTOM
    ActionChains(browser).move_to_element_with_offset(video, across, down).click_and_hold().perform()


def release(browser) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).release().perform()


def press_and_shoot(browser, fraction: float, before: float, name: str, width: int, height: int):
    """Press the seek bar `fraction` of the way along until a screenshot shows the preview it brings up;
    returns the preview (SHOWN_PREVIEW) and that screenshot.

    scrub.js hides the preview 0.6 s after the seek ends, and Chromium's own seek bar passes no pointer
    event to the page that could keep it up while pressed: on a loaded machine the screenshot may come
    after it hid. Whether it shows is read from the screenshot itself (the preview's white border)."""

    def attempt():
        press_seek_bar(browser, fraction)
        try:
            preview = wait_for(browser, SHOWN_PREVIEW, before)
            png = browser.get_screenshot_as_png()
        finally:
            release(browser)
        # Saved for a person to look at, and read from these bytes: another run may rewrite the file.
        (ARTIFACTS / f"{name}_{width}x{height}.png").write_bytes(png)
        shot = PILImage.open(io.BytesIO(png)).convert("RGB")
        border = at(shot, preview, preview["left"] + 1, preview["centreY"])
        return (preview, shot) if min(border) >= 230 else None

    return wait_until(attempt, f"a screenshot of the preview at {fraction:.0%} of the seek bar ({name})")


def at(screenshot: PILImage.Image, preview: dict, x: float, y: float) -> tuple[int, int, int]:
    """The screenshot's pixel at the page's point (x, y) (CSS pixels)."""
    ratio = preview["pixelRatio"]
    return screenshot.getpixel((round(x * ratio), round(y * ratio)))


def cue_at(cues: list[sprites.Cue], time: float) -> sprites.Cue:
    """The cue covering `time`, the last one past the end: as static/sharing/scrub.js picks it."""
    return next((cue for cue in cues if cue.start <= time < cue.end), cues[-1])


def scrub_and_check(browser, client, live_server, share, frame_colours: list[int], fps: int, name: str):
    """At each size, press the seek bar early and late: the preview shows the cue's tile of the day sought."""
    _, vtt, sprite_bytes = sprites.page_previews(client, share)
    cues = sprites.parse(vtt)
    sprite = PILImage.open(io.BytesIO(sprite_bytes))
    assert len({cue.box for cue in cues}) > 1, "more than one tile to choose from"

    for width, height in SIZES:
        browser.set_window_size(width, height)
        browser.get(f"{live_server.url}/share/{share.token}")
        wait_for(
            browser,
            "const v = document.querySelector('video'); const t = v && v.textTracks[0];"
            "return v.readyState >= 1 && t && t.cues && t.cues.length > 0;",
        )
        before = 0
        for press, fraction in PRESSES.items():
            preview, screenshot = press_and_shoot(
                browser, fraction, before, f"scrub_{name}_{press}", width, height
            )
            wait_for(browser, "return document.querySelector('.scrub-preview').hidden")
            before = preview["time"]
            where = f"{name}, {press}, {width}x{height}: {preview}"

            assert abs(preview["time"] / preview["duration"] - fraction) < 0.1, "the seek bar sought " + where
            cue = cue_at(cues, preview["time"])
            x, y, w, h = cue.box
            assert preview["cue"] == f"{cue.image}#xywh={x},{y},{w},{h}", where
            sprite_url = urljoin(preview["track"], cue.image)
            assert preview["image"] == f'url("{sprite_url}")', where
            # Fetched for the preview's background, so not refused by the page's CSP.
            wait_for(browser, "return performance.getEntriesByName(arguments[0]).length > 0", sprite_url)
            assert preview["position"] == f"{-x}px {-y}px", where
            assert (preview["tileWidth"], preview["tileHeight"]) == (w, h), where
            # Whole inside the window: not cut off at the screen's edge.
            assert preview["left"] >= 0 and preview["right"] <= preview["windowWidth"], where
            # Over the player, above the point pressed (near either end it stops at the player's edge).
            video = preview["video"]
            pressed_x = video["left"] + fraction * video["width"]
            assert preview["left"] <= pressed_x <= preview["right"], (pressed_x, where)
            assert (
                video["top"] <= preview["top"] and preview["bottom"] < video["bottom"] - SEEK_BAR_ABOVE_BOTTOM
            ), where

            # The tile shows the day sought, in the sprite and on the screen (framed in white).
            day = frame_colours[min(int(preview["time"] * fps), len(frame_colours) - 1)]
            assert sprites.tile_colour(sprite, cue.box) == day, where
            on_screen = at(screenshot, preview, preview["centreX"], preview["centreY"])
            assert nearest(on_screen) == day, where
            if press == "late":
                assert day == frame_colours[-1] != frame_colours[0], "the late press is in the last day"


def test_scrubbing_a_period_videos_share_page_previews_the_day_sought(
    browser, client, live_server, camera, add_frame, data_dir
):
    """GIVEN a published "whole project" video of three past days (Day badge on), each day its own colour,
    its page offering the download (a link below the player, in the player's frame)
    WHEN the viewer presses its seek bar early, then late, at desktop and phone sizes
    THEN the preview is the tile of the cue for the time sought, whole on screen, showing that day."""
    # The newest day is yesterday: today's would be in the future just after midnight.
    camera.name, camera.day_counter_enabled = "North gate", True
    camera.day_counter_start_date = midnight(DAYS).date()
    camera.save()
    frame_colours = []
    for day in range(DAYS):
        for n in range(FRAMES_PER_DAY):
            add_frame(camera, midnight(DAYS - day) + timedelta(hours=8, minutes=n), PALETTE[day])
            frame_colours.append(day)
    period = enable(camera, PeriodVideo.Kind.WHOLE_PROJECT)
    assert periods.refresh(period) == "queued"
    batch = render_period(period)
    period.share.is_active, period.share.download_enabled = True, True
    period.share.save()

    scrub_and_check(browser, client, live_server, period.share, frame_colours, batch.frame_rate, "period")


@pytest.mark.parametrize(
    "share_type", [Share.ShareType.VIDEO_ONLY, Share.ShareType.INFO_PAGE], ids=["video_only", "info_page"]
)
def test_scrubbing_a_continuous_videos_share_page_previews_the_day_sought(
    browser, client, live_server, camera, add_frame, day_start, data_dir, share_type
):
    """GIVEN a camera's continuous video of three days, each day its own colour, on a share page
    (an info page: the player leads, the keyboard hint, the details and the download follow it)
    WHEN the viewer presses its seek bar early, then late, at desktop and phone sizes
    THEN the preview is the tile of the cue for the time sought, whole on screen, showing that day."""
    frame_colours = add_solid_days(camera, add_frame, day_start, days=DAYS, per_day=FRAMES_PER_DAY)
    batch = update(camera)
    share = make_share([batch], share_type=share_type, download_enabled=True)

    name = f"continuous_{share_type}"
    scrub_and_check(browser, client, live_server, share, frame_colours, batch.frame_rate, name)
