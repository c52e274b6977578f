"""The public pages as their audience sees them, in a real headless Chromium at desktop and phone sizes.

Screenshots go to tests/artifacts/sharing/ (kept after the run, ignored by git):
info page, gallery and its lightbox, the before/after slider, the 404 page, each at
1280x800 and 390x844.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image as PILImage

from sharing.models import Share, ShareCustomization
from tests.browser import start_chromium
from tests.factories import make_share
from tests.sharing.conftest import DAY_COLOURS
from tests.waiting import PATIENCE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "sharing"
SIZES = ((1280, 800), (390, 844))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"), "--window-size=1280,800")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def wait_for(driver, script: str, *args):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, PATIENCE, poll_frequency=0.2).until(
        lambda d: d.execute_script(script, *args)
    )


def press(driver, *keys):
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(driver)
    for key in keys:
        chain.send_keys(key)
    chain.perform()


def shoot(driver, name: str, width: int, height: int) -> None:
    assert driver.save_screenshot(str(ARTIFACTS / f"{name}_{width}x{height}.png"))


def no_sideways_scroll(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def focused(driver) -> str:
    return driver.execute_script(
        "const e = document.activeElement; return e.tagName.toLowerCase() + (e.className ? '.' + e.className : '');"
    )


def test_info_page_leads_with_a_large_player_that_keys_play_and_seek(browser, live_server, make_video_batch):
    share = make_share(
        [make_video_batch(), make_video_batch(), make_video_batch()],
        title="Harbour bridge, spring",
        description="The new footbridge from the first pile to the deck.",
        share_type=Share.ShareType.INFO_PAGE,
        download_enabled=True,
    )
    for order, link in enumerate(share.share_batches.order_by("display_order"), start=1):
        link.custom_title = ["Whole project", "Piling", "Deck"][order - 1]
        link.save()
    ShareCustomization.objects.create(share=share, display_options={"show_technical_info": True})

    for width, height in SIZES:
        browser.set_window_size(width, height)
        browser.get(f"{live_server.url}/share/{share.token}")
        wait_for(browser, "return [...document.querySelectorAll('video')].every(v => v.readyState >= 1);")
        lead = browser.execute_script(
            "const r = document.querySelector('.lead video').getBoundingClientRect();"
            "return {w: r.width, h: r.height, bottom: r.bottom, vw: innerWidth, vh: innerHeight};"
        )
        shoot(browser, "info_page", width, height)
        browser.execute_script("document.querySelector('.more').scrollIntoView()")
        shoot(browser, "info_page_more", width, height)

        # Big, whole and first: most of the width, inside the window, above everything else.
        assert lead["w"] >= 0.6 * lead["vw"] or lead["h"] >= 0.7 * (lead["vh"] - 96)
        assert lead["bottom"] <= lead["vh"]
        assert no_sideways_scroll(browser)
        assert browser.execute_script("return document.documentElement.lang") == "en"
        facts = browser.find_element("css selector", ".lead ~ .facts, main > .facts").text
        assert "CAMERA" in facts.upper() and "DAYS" in facts.upper() and "DATES" in facts.upper()
        others = browser.find_elements("css selector", ".others > li figcaption")
        assert [o.text for o in others] == ["Piling", "Deck"]

    # Keyboard: the player is the first stop; Space plays, arrows and Home seek.
    browser.set_window_size(1280, 800)
    browser.get(f"{live_server.url}/share/{share.token}")
    wait_for(browser, "const v = document.querySelector('.lead video'); return v.readyState >= 1;")
    # Muted (no sound card here) and looping, so only a key ever pauses the 2 s video.
    browser.execute_script("const v = document.querySelector('.lead video'); v.muted = true; v.loop = true;")
    press(browser, "\ue004")  # Tab
    assert focused(browser) == "video.player"
    outline = browser.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    press(browser, " ")
    wait_for(
        browser, "const v = document.querySelector('.lead video'); return !v.paused && v.currentTime > 0;"
    )
    press(browser, "k")
    wait_for(browser, "return document.querySelector('.lead video').paused;")
    press(browser, "\ue014")  # ArrowRight: 5 s on, so the 2 s video's end
    wait_for(
        browser, "const v = document.querySelector('.lead video'); return v.currentTime >= v.duration - 0.05;"
    )
    press(browser, "\ue011")  # Home
    wait_for(browser, "return document.querySelector('.lead video').currentTime === 0;")
    shoot(browser, "info_page_focus", 1280, 800)

    assert outline == "solid"  # focus is visible


def test_gallery_lightbox_works_with_keys_and_swipes_and_gives_focus_back(
    browser, live_server, make_video_batch
):
    share = make_share(
        [make_video_batch(frames=8)], title="Garden, one summer", share_type=Share.ShareType.GALLERY
    )
    thumbs = "[...document.querySelectorAll('.frames img')].every(i => i.complete && i.naturalWidth > 0)"

    for width, height in SIZES:
        browser.set_window_size(width, height)
        browser.get(f"{live_server.url}/share/{share.token}")
        wait_for(browser, f"return {thumbs};")
        shoot(browser, "gallery", width, height)
        assert no_sideways_scroll(browser)
        alts = browser.execute_script("return [...document.querySelectorAll('.frames img')].map(i => i.alt)")
        assert all(alt.startswith("Frame ") for alt in alts) and len(set(alts)) == len(alts)

    browser.set_window_size(1280, 800)
    browser.get(f"{live_server.url}/share/{share.token}")
    wait_for(browser, f"return {thumbs};")
    open_box = (
        "const b = document.getElementById('lightbox'); return !b.hidden && b.querySelector('img').complete"
    )
    press(browser, "\ue004")  # Tab to the first thumbnail
    assert focused(browser) == "a.frame"
    press(browser, "\ue007")  # Enter
    wait_for(browser, open_box + " && b.querySelector('img').naturalWidth > 0;")
    assert focused(browser) == "button.close"
    assert browser.find_element("css selector", "#lightbox img").get_attribute("alt").startswith("Frame 1,")
    press(browser, "\ue014", "\ue014")  # ArrowRight twice
    assert browser.find_element("css selector", "#lightbox img").get_attribute("alt").startswith("Frame 3,")
    press(browser, "\ue012")  # ArrowLeft
    assert browser.find_element("css selector", "#lightbox img").get_attribute("alt").startswith("Frame 2,")
    # Tab goes round the dialog's three buttons and never leaves it.
    stops = []
    for _ in range(4):
        press(browser, "\ue004")
        stops.append(focused(browser))
    assert stops == ["button.prev", "button.next", "button.close", "button.prev"]
    wait_for(browser, open_box + " && b.querySelector('img').naturalWidth > 0;")
    for width, height in SIZES:
        browser.set_window_size(width, height)
        shoot(browser, "gallery_lightbox", width, height)
    browser.set_window_size(1280, 800)

    # A swipe to the left is "next", to the right "previous" (pointer events, as a finger's).
    from selenium.webdriver.common.action_chains import ActionChains

    picture = browser.find_element("css selector", "#lightbox img")
    ActionChains(browser).move_to_element(picture).click_and_hold().move_by_offset(
        -120, 0
    ).release().perform()
    assert browser.find_element("css selector", "#lightbox img").get_attribute("alt").startswith("Frame 3,")
    ActionChains(browser).move_to_element(picture).click_and_hold().move_by_offset(120, 0).release().perform()
    assert browser.find_element("css selector", "#lightbox img").get_attribute("alt").startswith("Frame 2,")

    press(browser, "\ue00c")  # Escape
    assert browser.execute_script("return document.getElementById('lightbox').hidden")
    assert focused(browser) == "a.frame"
    assert browser.execute_script("return document.activeElement === document.querySelector('a.frame')")


def side_colours(browser) -> tuple[tuple, tuple]:
    """The colours a person sees a quarter and three quarters across the compare picture."""
    frame = browser.find_element("css selector", ".compare-frame")
    with PILImage.open(io.BytesIO(frame.screenshot_as_png)) as shot:
        shot = shot.convert("RGB")
        y = int(shot.height * 0.6)
        return shot.getpixel((shot.width // 4, y)), shot.getpixel((shot.width * 3 // 4, y))


def close_to(actual, expected, slack=30) -> bool:
    return all(abs(a - e) <= slack for a, e in zip(actual, expected, strict=True))


def test_before_after_slider_moves_by_keyboard_and_by_pointer(browser, live_server, make_compare_share):
    share, _ = make_compare_share()
    red, blue = DAY_COLOURS[0], DAY_COLOURS[2]
    loaded = (
        "return [...document.querySelectorAll('.compare img')].every(i => i.complete && i.naturalWidth > 0);"
    )

    for width, height in SIZES:
        browser.set_window_size(width, height)
        browser.get(f"{live_server.url}/share/{share.token}")
        wait_for(browser, loaded)
        browser.execute_script("document.querySelector('.compare').scrollIntoView()")
        shoot(browser, "before_after", width, height)
        assert no_sideways_scroll(browser)
        left, right = side_colours(browser)
        assert close_to(left, red) and close_to(right, blue), (left, right)

    browser.set_window_size(1280, 800)
    browser.get(f"{live_server.url}/share/{share.token}")
    wait_for(browser, loaded)
    slider = browser.find_element("css selector", "[data-compare-range]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
    slider.send_keys("\ue010")  # End: all "before"
    assert slider.get_attribute("value") == "100"
    assert close_to(side_colours(browser)[1], red)
    slider.send_keys("\ue011")  # Home: all "after"
    assert close_to(side_colours(browser)[0], blue)
    for _ in range(30):
        slider.send_keys("\ue014")  # ArrowRight, one step each
    assert slider.get_attribute("value") == "30"
    assert slider.get_attribute("aria-valuetext") == "30% before, 70% after"
    assert close_to(side_colours(browser)[0], red) and close_to(side_colours(browser)[1], blue)

    # A drag on the picture itself: to 90 % of its width and back to 10 %.
    from selenium.webdriver.common.action_chains import ActionChains

    frame = browser.find_element("css selector", ".compare-frame")
    box = frame.rect
    ActionChains(browser).move_to_element_with_offset(
        frame, int(box["width"] * 0.4), 0
    ).click_and_hold().perform()
    assert int(slider.get_attribute("value")) == pytest.approx(90, abs=2)
    assert close_to(side_colours(browser)[1], red)
    ActionChains(browser).move_by_offset(-int(box["width"] * 0.8), 0).release().perform()
    assert int(slider.get_attribute("value")) == pytest.approx(10, abs=2)
    assert close_to(side_colours(browser)[0], blue)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", frame)
    shoot(browser, "before_after_dragged", 1280, 800)


def test_unknown_routes_get_a_clean_404_page(browser, live_server):
    for width, height in SIZES:
        browser.set_window_size(width, height)
        browser.get(f"{live_server.url}/no/such/page")
        shoot(browser, "not_found", width, height)

        assert browser.find_element("css selector", "h1").text == "Not found"
        assert "Traceback" not in browser.page_source
        assert no_sideways_scroll(browser)
