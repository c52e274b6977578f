"""A real headless Chromium logs in, sees the dashboard's cards and thumbnails, and screenshots it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image as PILImage

from tests.browser import chromium
from tests.factories import make_batch, make_camera, make_image, make_share
from tests.waiting import PATIENCE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-test-password"


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "chromium-profile", "--window-size=1280,1000", wait_for_elements=True) as driver:
        yield driver


@pytest.fixture
def site(data_dir, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    cameras = []
    for name, colour, failures in [("North gate", (40, 120, 200), 0), ("Crane cab", (200, 90, 40), 4)]:
        camera = make_camera(name=name, connection_failures=failures, timezone="UTC")
        relative = f"images/{camera.pk}/latest.jpg"
        (data_dir / relative).parent.mkdir(parents=True)
        PILImage.new("RGB", (320, 240), colour).save(data_dir / relative, "JPEG")
        image = make_image(camera, timezone.now() - timedelta(minutes=2), file_path=relative)
        make_batch(camera, [image])
        cameras.append(camera)
    make_camera(name="Spare", enabled=False)
    make_share(title="Owner preview", expires_at=timezone.now() + timedelta(days=2))
    return cameras


def log_in(browser, live_server):
    from selenium.webdriver.common.by import By

    browser.get(f"{live_server.url}/admin/login/?next=/admin/dashboard/")
    browser.find_element(By.NAME, "username").send_keys("boss")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()


def test_dashboard_renders_cards_with_thumbnails_and_is_screenshotted(browser, live_server, site, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    log_in(browser, live_server)
    WebDriverWait(browser, PATIENCE).until(expected_conditions.url_contains("/admin/dashboard/"))
    # The URL changes before the page has loaded: a card count read then could be short.
    WebDriverWait(browser, PATIENCE).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    cards = browser.find_elements(By.CSS_SELECTOR, "article.tl-card")
    assert [card.find_element(By.CSS_SELECTOR, "h3 a").text for card in cards] == [
        "Crane cab",
        "North gate",
        "Spare",
    ]
    assert "tl-status-failing" in cards[0].get_attribute("class")
    assert "tl-status-ok" in cards[1].get_attribute("class")
    assert "tl-status-disabled" in cards[2].get_attribute("class")
    # The thumbnails really loaded through the staff-only view (a broken image has no width).
    WebDriverWait(browser, PATIENCE).until(
        lambda driver: all(
            driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img)
            for img in driver.find_elements(By.CSS_SELECTOR, ".tl-thumb img")
        )
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, ".tl-thumb img")) == 2
    # The status light is drawn by the stylesheet: red for the failing camera.
    light = cards[0].find_element(By.CSS_SELECTOR, ".tl-light")
    assert light.value_of_css_property("background-color") in ("rgba(210, 50, 45, 1)", "rgb(210, 50, 45)")
    assert "Owner preview" in browser.find_element(By.CSS_SELECTOR, ".tl-shares").text

    shot = tmp_path / "dashboard.png"
    assert browser.save_screenshot(str(shot))
    with PILImage.open(shot) as picture:
        assert picture.size[0] >= 1000

    camera = site[0]
    browser.get(f"{live_server.url}/admin/cameras/camera/{camera.pk}/change/")
    assert "North gate" in browser.find_element(By.ID, "content").text
    camera_shot = tmp_path / "camera-page.png"
    assert browser.save_screenshot(str(camera_shot))
    assert camera_shot.stat().st_size > 10_000

    browser.get(f"{live_server.url}/admin/cameras/{camera.pk}/health.svg")
    assert browser.find_element(By.TAG_NAME, "svg").get_attribute("aria-label") == "North gate: last 30 days"
    print(f"screenshots: {shot} {camera_shot}")


def test_dashboard_shows_a_new_capture_without_a_reload(
    browser, live_server, data_dir, django_user_model, settings
):
    """GIVEN an open dashboard with a camera that has no image yet, WHEN a capture lands,
    THEN its card shows the thumbnail and the count within a few refreshes, and the page
    itself was never reloaded (a marker set on window survives)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    settings.TIMELAPSER_DASHBOARD_REFRESH_SECONDS = 1
    django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    camera = make_camera(name="Gatehouse", timezone="UTC")
    log_in(browser, live_server)
    WebDriverWait(browser, PATIENCE).until(expected_conditions.url_contains("/admin/dashboard/"))
    WebDriverWait(browser, PATIENCE).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    card = f'article[data-camera="{camera.pk}"]'
    assert "No image yet" in browser.find_element(By.CSS_SELECTOR, card).text
    browser.execute_script("window.tlNotReloaded = true;")

    relative = f"images/{camera.pk}/new.jpg"
    (data_dir / relative).parent.mkdir(parents=True)
    PILImage.new("RGB", (320, 240), (30, 160, 60)).save(data_dir / relative, "JPEG")
    make_image(camera, timezone.now(), file_path=relative)

    WebDriverWait(browser, PATIENCE).until(
        lambda driver: driver.execute_script(
            "var img = document.querySelector(arguments[0] + ' .tl-thumb img');"
            "return img && img.complete && img.naturalWidth;",
            card,
        )
    )
    assert browser.find_element(By.CSS_SELECTOR, f"{card} .tl-today").text == "1"
    assert browser.execute_script("return window.tlNotReloaded === true;")
    # No CSP violation or script error on the way (the favicon's 404 is no concern here).
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not [message for message in errors if "favicon.ico" not in message], errors
