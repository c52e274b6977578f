"""In real headless Chromium, under the app's CSP: the camera page's Day badge editor and its screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import chromium

# Kept after the run for a person to look at (ignored by git).
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "cameras"


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "chromium-profile") as driver:
        yield driver


def rect(browser, selector: str) -> dict:
    return browser.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};",
        selector,
    )


def inside(inner: dict, outer: dict) -> bool:
    return (
        outer["left"] <= inner["left"]
        and inner["right"] <= outer["right"]
        and outer["top"] <= inner["top"]
        and inner["bottom"] <= outer["bottom"]
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_day_badge_preview_follows_the_editor_on_the_latest_picture(
    live_server, admin_user, add, camera_server, browser
):
    from captures.ingest import capture

    camera = add("crane", camera_server.url(), username="admin", password="pw-SECRET-9")
    assert capture(camera).ok
    client = Client()
    client.force_login(admin_user)
    browser.get(f"{live_server.url}/admin/login/")
    browser.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value, "path": "/"})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    browser.set_window_size(1280, 800)
    browser.get(f"{live_server.url}/admin/cameras/camera/{camera.pk}/change/")
    assert "pw-SECRET-9" not in browser.page_source
    assert "http://admin:••••@••••/••••" in browser.page_source
    assert camera_server.url().split("//")[1].split("/")[0] not in browser.page_source
    picture = ".tl-overlay-preview img"
    WebDriverWait(browser, 15).until(
        lambda d: d.execute_script("return document.querySelector(arguments[0]).naturalWidth", picture) > 0
    )
    # Default corner: top right, inside the picture.
    badge, frame = rect(browser, ".tl-overlay-badge"), rect(browser, picture)
    assert inside(badge, frame)
    assert frame["right"] - badge["right"] < 30 and badge["top"] - frame["top"] < 30

    browser.find_element(By.CSS_SELECTOR, "input[name=day_overlay_position][value=bottom-left]").click()
    browser.execute_script(
        "const s = document.querySelector('[name=\"day_overlay_style-background_opacity\"]');"
        "s.value = '0.25'; s.dispatchEvent(new Event('input', {bubbles: true}));"
    )
    badge, frame = rect(browser, ".tl-overlay-badge"), rect(browser, picture)
    assert inside(badge, frame)
    assert badge["left"] - frame["left"] < 30 and frame["bottom"] - badge["bottom"] < 30
    assert browser.find_element(By.CSS_SELECTOR, "[data-role=opacity-value]").text == "0.25"
    assert "0.25" in browser.find_element(By.CSS_SELECTOR, ".tl-overlay-badge").value_of_css_property(
        "background-color"
    )

    for width, height in ((1280, 800), (390, 844)):
        browser.set_window_size(width, height)
        browser.execute_script("window.scrollTo(0, 0)")
        assert browser.save_screenshot(str(ARTIFACTS / f"camera_connection_{width}x{height}.png"))
        browser.execute_script(
            "document.querySelector('.field-schedule_summary').scrollIntoView({block: 'start'})"
        )
        assert browser.save_screenshot(str(ARTIFACTS / f"camera_schedule_{width}x{height}.png"))
        browser.execute_script("document.querySelector('.tl-overlay-editor').scrollIntoView()")
        assert browser.save_screenshot(str(ARTIFACTS / f"camera_overlay_{width}x{height}.png"))
        browser.execute_script("document.querySelector('.field-thinning_tiers').scrollIntoView()")
        assert browser.save_screenshot(str(ARTIFACTS / f"camera_rows_{width}x{height}.png"))
        # The editor and the rows fit a phone: the page never scrolls sideways.
        assert rect(browser, picture)["right"] <= width
        assert browser.execute_script("return document.documentElement.scrollWidth <= innerWidth")
        edge = rect(browser, "fieldset.module")["right"]
        assert rect(browser, "#id_metadata")["right"] <= edge
        assert rect(browser, ".field-thinning_tiers .help")["right"] <= edge

    # The admin index: everyday apps first, the rest folded away until asked for.
    browser.get(f"{live_server.url}/admin/")
    assert not browser.find_element(By.CSS_SELECTOR, "details.tl-advanced").get_attribute("open")
    assert not browser.find_element(By.CSS_SELECTOR, "details.tl-advanced .app-axes").is_displayed()
    for width, height in ((1280, 800), (390, 844)):
        browser.set_window_size(width, height)
        assert browser.save_screenshot(str(ARTIFACTS / f"admin_index_{width}x{height}.png"))

    csp_errors = [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert not csp_errors
