"""Share pages in a real headless Chromium: playback, seeking, embedding, framing refusal.

The foreign site is a plain http.server on another 127.0.0.1 port, so the
browser applies its real cross-origin framing rules (CSP frame-ancestors and
X-Frame-Options) exactly as it would for someone else's website.
"""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from sharing.models import Share, ShareCustomization
from tests.browser import start_chromium
from tests.factories import make_share
from tests.waiting import PATIENCE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One fresh-profile Chromium for the module (starting one costs seconds)."""
    driver = start_chromium(
        tmp_path_factory.mktemp("chromium-profile"),
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=1200,900",
    )
    yield driver
    driver.quit()


@pytest.fixture
def foreign_site(tmp_path):
    """Another origin (127.0.0.1 on its own port) serving pages that frame our URLs."""
    root = tmp_path / "foreign"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def page(name: str, framed_url: str) -> str:
        (root / name).write_text(
            f"<!doctype html><title>Foreign blog</title><h1>Foreign blog</h1>"
            f'<iframe id="player" src="{framed_url}" width="640" height="360"></iframe>'
        )
        return f"http://127.0.0.1:{server.server_port}/{name}"

    yield page
    server.shutdown()
    server.server_close()


def wait_for(driver, script: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, PATIENCE, poll_frequency=0.2).until(lambda d: d.execute_script(script))


def test_video_loads_metadata_plays_and_seeks(browser, live_server, make_video_batch, tmp_path):
    share = make_share([make_video_batch()], title="Playback")

    browser.get(f"{live_server.url}/share/{share.token}")
    wait_for(browser, "const v = document.querySelector('video'); return v && v.readyState >= 1;")
    duration = browser.execute_script("return document.querySelector('video').duration")
    browser.execute_async_script(
        "const done = arguments[0]; const v = document.querySelector('video'); v.muted = true;"
        "v.play().then(() => done(true), (e) => done(String(e)));"
    )
    wait_for(browser, "return document.querySelector('video').currentTime > 0.2;")
    seeked = browser.execute_async_script(
        "const done = arguments[0]; const v = document.querySelector('video'); v.pause();"
        "v.addEventListener('seeked', () => done(v.currentTime), {once: true}); v.currentTime = 1.5;"
    )
    browser.save_screenshot(str(tmp_path / "video_only.png"))

    assert duration == pytest.approx(2.0, abs=0.2)
    assert seeked == pytest.approx(1.5, abs=0.15)
    assert (tmp_path / "video_only.png").stat().st_size > 1000
    share.refresh_from_db()
    assert share.view_count == 1  # the page once; the player's range requests do not count


def test_info_page_renders_videos_and_screenshot(browser, live_server, make_video_batch, tmp_path):
    share = make_share(
        [make_video_batch(), make_video_batch()],
        title="Info",
        description="Two angles",
        share_type=Share.ShareType.INFO_PAGE,
    )
    ShareCustomization.objects.create(share=share, theme_config={"primary_color": "#e91e63", "theme": "dark"})

    browser.get(f"{live_server.url}/share/{share.token}")
    wait_for(browser, "return [...document.querySelectorAll('video')].every(v => v.readyState >= 1);")
    colour = browser.execute_script("return getComputedStyle(document.querySelector('h1')).borderBottomColor")
    background = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    browser.save_screenshot(str(tmp_path / "info_page.png"))

    assert browser.execute_script("return document.querySelectorAll('video').length") == 2
    assert colour == "rgb(233, 30, 99)"
    assert background == "rgb(17, 17, 17)"
    assert (tmp_path / "info_page.png").stat().st_size > 1000


def test_gallery_thumbnails_load_and_lightbox_opens(browser, live_server, make_video_batch, tmp_path):
    share = make_share([make_video_batch(frames=6)], title="Gallery", share_type=Share.ShareType.GALLERY)

    browser.get(f"{live_server.url}/share/{share.token}")
    wait_for(
        browser,
        "return [...document.images].filter(i => i.closest('.frames')).every(i => i.complete && i.naturalWidth > 0);",
    )
    browser.save_screenshot(str(tmp_path / "gallery.png"))
    browser.find_element("css selector", "a.frame").click()
    wait_for(
        browser,
        "const b = document.getElementById('lightbox'); return !b.hidden && b.querySelector('img').naturalWidth > 0;",
    )
    browser.save_screenshot(str(tmp_path / "gallery_lightbox.png"))

    assert browser.execute_script("return document.querySelector('#lightbox img').naturalWidth") == 320
    assert (tmp_path / "gallery.png").stat().st_size > 1000


def test_foreign_page_can_embed_the_player(browser, live_server, foreign_site, make_video_batch, tmp_path):
    share = make_share([make_video_batch()], title="Embeddable", embed_enabled=True)
    page = foreign_site("embed.html", f"{live_server.url}/embed/{share.token}")

    browser.get(page)
    browser.switch_to.frame(browser.find_element("id", "player"))
    wait_for(browser, "const v = document.querySelector('video'); return v && v.readyState >= 1;")
    browser.switch_to.default_content()
    browser.save_screenshot(str(tmp_path / "embed.png"))

    assert (tmp_path / "embed.png").stat().st_size > 1000


def test_embed_allow_list_blocks_other_sites(browser, live_server, foreign_site, make_video_batch):
    share = make_share(
        [make_video_batch()], embed_enabled=True, embed_allowed_domains=["https://only-this.example.com"]
    )
    page = foreign_site("blocked-embed.html", f"{live_server.url}/embed/{share.token}")

    assert not frame_shows_video(browser, page)


def test_foreign_page_cannot_frame_the_share_page(browser, live_server, foreign_site, make_video_batch):
    share = make_share([make_video_batch()], embed_enabled=True)
    page = foreign_site("frame-share.html", f"{live_server.url}/share/{share.token}")
    control = foreign_site("frame-embed.html", f"{live_server.url}/embed/{share.token}")

    assert not frame_shows_video(browser, page)
    assert frame_shows_video(browser, control)  # the check itself can see a framed video


def frame_shows_video(browser, page: str) -> bool:
    """Whether the page's iframe shows our player, once that frame has finished loading.

    A page's load waits for its frames, refused ones too (Chromium puts its error page in
    them), and our player's <video> is in its HTML: one look then is final, where a
    five-second look used to decide on a loaded machine.
    """
    browser.get(page)
    wait_for(browser, "return document.readyState === 'complete';")
    browser.switch_to.frame(browser.find_element("id", "player"))
    wait_for(browser, "return document.readyState === 'complete';")
    found = bool(browser.execute_script("return !!document.querySelector('video');"))
    browser.switch_to.default_content()
    return found
