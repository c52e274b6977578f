"""Renditions through the share routes: the web MP4 streamed with Range, the full one downloaded, AV1 offered
first, the render's poster, and the WebVTT sprite the player scrubs with (also in real Chromium)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from batches import render
from batches.models import TimelapseBatch
from batches.selection import Selection, create_batch
from tests.batches import sprites
from tests.batches.conftest import PALETTE, add_frame, day_start  # noqa: F401 (fixtures)
from tests.batches.test_renditions import has_encoder
from tests.browser import start_chromium
from tests.factories import make_camera, make_share
from tests.waiting import PATIENCE


@pytest.fixture
def rendered(settings, add_frame, day_start):  # noqa: F811
    """A batch really rendered from 640x480 frames with a 240p web rendition (and AV1 when available)."""
    settings.TIMELAPSER_WEB_RENDITION_HEIGHT = 240
    camera = make_camera(timezone="UTC")
    for i in range(20):
        add_frame(camera, day_start + timedelta(minutes=i), PALETTE[i % len(PALETTE)], size=(640, 480))
    batch = create_batch(camera, Selection(fps=10))
    kinds = "web,full,av1" if has_encoder("libsvtav1") else "web,full"
    TimelapseBatch.objects.filter(pk=batch.pk).update(selection={**batch.selection, "renditions": kinds})
    batch = render.render_batch(batch.pk)
    assert batch.status == TimelapseBatch.Status.COMPLETED, batch.error_message
    return batch


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
def test_player_streams_web_with_range_and_downloads_full(client, rendered, data_dir):
    share = make_share([rendered], download_enabled=True)
    item = share.share_batches.get().pk
    web = data_dir / rendered.published_renditions["web"]["path"]
    full = data_dir / rendered.published_path

    whole = client.get(f"/share/{share.token}/video/{item}.mp4")
    part = client.get(f"/share/{share.token}/video/{item}.mp4", HTTP_RANGE="bytes=100-199")
    download = client.get(f"/share/{share.token}/download/{item}")

    assert whole.status_code == 200 and int(whole["Content-Length"]) == web.stat().st_size
    assert body(whole) == web.read_bytes()
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{web.stat().st_size}"
    assert body(part) == web.read_bytes()[100:200]
    assert download.status_code == 200 and body(download) == full.read_bytes()


@pytest.mark.django_db
def test_page_offers_av1_first_and_the_preview_track(client, rendered, data_dir):
    share = make_share([rendered])
    html, _, sprite = sprites.page_previews(client, share)
    assert sprite[:2] == b"\xff\xd8"
    poster = client.get(re.search(r'poster="([^"]+)"', html).group(1))
    assert body(poster) == (data_dir / rendered.published_renditions["poster"]).read_bytes()
    if "av1" in rendered.published_renditions:
        assert html.index('codecs="av01') < html.index('type="video/mp4"'), "AV1 is the first source"
        av1 = client.get(re.search(r'<source src="([^"]+av1\.mp4)"', html).group(1), HTTP_RANGE="bytes=0-9")
        assert av1.status_code == 206


@pytest.mark.django_db
def test_rendition_routes_are_404_for_an_inactive_share(client, rendered):
    share = make_share([rendered], is_active=False)
    item = share.share_batches.get().pk
    for route in ("previews/{}/sprite.vtt", "previews/{}/sprite.jpg", "video/{}/av1.mp4"):
        assert client.get(f"/share/{share.token}/{route.format(item)}").status_code == 404


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chromium_player_has_the_track_and_shows_a_preview_while_seeking(live_server, rendered, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    share = make_share([rendered])
    driver = start_chromium(tmp_path / "profile", "--window-size=1000,800")
    try:
        driver.get(f"{live_server.url}/share/{share.token}")
        wait = WebDriverWait(driver, PATIENCE, poll_frequency=0.2)
        wait.until(
            lambda d: d.execute_script(
                "const v = document.querySelector('video'); const t = v && v.textTracks[0];"
                "return v.readyState >= 1 && t && t.cues && t.cues.length > 0;"
            )
        )
        cues = driver.execute_script("return document.querySelector('video').textTracks[0].cues.length")
        driver.execute_script("const v = document.querySelector('video'); v.currentTime = v.duration / 2;")
        wait.until(lambda d: d.execute_script("return !document.querySelector('.scrub-preview').hidden"))
        preview = driver.execute_script(
            "const b = document.querySelector('.scrub-preview');"
            "return [b.style.backgroundImage, b.dataset.cue, b.offsetWidth];"
        )
        loaded = driver.execute_async_script(
            "const done = arguments[arguments.length - 1]; const i = new Image();"
            "i.onload = () => done(i.naturalWidth); i.onerror = () => done(0); i.src = arguments[0];",
            re.search(r'url\("(.+)"\)', preview[0]).group(1),
        )
    finally:
        driver.quit()
    assert cues == 20
    assert "sprite.jpg" in preview[0] and "#xywh=" in preview[1] and preview[2] > 0
    assert loaded > 0, "the sprite loads under the page's CSP"
