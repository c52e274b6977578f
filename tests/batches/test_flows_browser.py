"""In real headless Chromium: New timelapse (camera page → preview → render with the progress bar),
then Share (batch list → draft share with distinct titles and the batch picker → preview → copy link).

Screenshots at 1280x800 and 390x844 are kept in tests/artifacts/flows for a person to look at.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from PIL import ImageDraw
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from batches.models import TimelapseBatch
from sharing.models import Share
from tests.browser import chromium, click_and_load
from tests.waiting import PATIENCE

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "flows"
SIZES = ((1280, 800), (390, 844))


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "chromium-profile") as driver:
        yield driver


def shoot(browser, name: str, scroll_to: str | None = None) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        browser.set_window_size(width, height)
        if scroll_to:
            browser.execute_script("document.querySelector(arguments[0]).scrollIntoView()", scroll_to)
        assert browser.save_screenshot(str(ARTIFACTS / f"{name}_{width}x{height}.png"))
        # No flow page scrolls sideways on a phone.
        assert browser.execute_script("return document.documentElement.scrollWidth <= innerWidth + 1"), name
    browser.set_window_size(*SIZES[0])


def fill(browser, name: str, value: str) -> None:
    # Date and time inputs take their value in ISO form whatever the browser's locale shows.
    browser.execute_script(
        "document.querySelector(`[name='${arguments[0]}']`).value = arguments[1]", name, value
    )


def site_frames(camera, add_frame, day_start, days=3, per_day=6):
    """A crane that grows a little each day, against a daylight sky."""
    for day in range(days):
        for n in range(per_day):
            height = 30 + day * 40 + n * 4

            def draw(image, height=height):
                canvas = ImageDraw.Draw(image)
                canvas.rectangle([140, 230 - height, 170, 230], fill=(90, 70, 40))
                for x in range(0, 320, 20):
                    canvas.line([x, 200, x + 10, 240], fill=(60, 120, 60), width=2)

            add_frame(camera, day_start + timedelta(days=day, hours=8 + n), (120, 170, 220), draw=draw,
                      quality_score=90)  # fmt: skip


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_new_timelapse_then_share_end_to_end(live_server, admin_user, camera, add_frame, day_start, browser):
    from batches.render import render_batch

    site_frames(camera, add_frame, day_start)
    client = Client()
    client.force_login(admin_user)
    browser.get(f"{live_server.url}/admin/login/")
    browser.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value, "path": "/"})
    browser.set_window_size(*SIZES[0])

    # From the camera page: the flow opens with this camera chosen.
    browser.get(f"{live_server.url}/admin/cameras/camera/{camera.pk}/change/")
    click_and_load(
        browser, browser.find_element(By.CSS_SELECTOR, ".object-tools a[href*='/timelapsebatch/new/']")
    )
    assert Select(browser.find_element(By.NAME, "camera")).first_selected_option.text == camera.name
    assert browser.find_element(By.NAME, "date_from").get_attribute("type") == "date"
    shoot(browser, "new_timelapse_form")

    first = day_start.date()
    fill(browser, "date_from", (first + timedelta(days=1)).isoformat())
    fill(browser, "date_to", (first + timedelta(days=2)).isoformat())
    browser.find_element(By.CSS_SELECTOR, "input[name=frames][value=per_day]").click()
    browser.find_element(By.NAME, "frames_per_day").send_keys("3")
    browser.find_element(By.CSS_SELECTOR, "input[name=length][value=seconds]").click()
    browser.find_element(By.NAME, "target_seconds").send_keys("2")
    click_and_load(browser, browser.find_element(By.NAME, "preview"))

    # Two days at three a day: 6 frames, 3 fps to last 2 s; first, middle and last shown.
    facts = browser.find_element(By.CSS_SELECTOR, ".tl-preview-facts").text
    assert "6 frames at 3 fps" in facts and "2.0 s of video" in facts
    thumbs = browser.find_elements(By.CSS_SELECTOR, ".tl-preview-thumbs img")
    assert len(thumbs) == 3
    WebDriverWait(browser, PATIENCE).until(
        lambda d: all(d.execute_script("return arguments[0].naturalWidth", img) > 0 for img in thumbs)
    )
    assert not TimelapseBatch.objects.exists()  # a preview writes nothing
    shoot(browser, "new_timelapse_preview", ".tl-preview")

    click_and_load(browser, browser.find_element(By.NAME, "render"))
    WebDriverWait(browser, PATIENCE).until(lambda d: "/change/" in d.current_url)
    batch = TimelapseBatch.objects.get()
    assert batch.total_frames == 6 and batch.frame_rate == 3
    assert (
        browser.find_element(By.CSS_SELECTOR, "progress.batch-progress").get_attribute("data-status")
        == "pending"
    )
    shoot(browser, "new_timelapse_queued")
    # This test is the render worker (the queue is another test's subject): the page's bar follows it.
    render_batch(batch.pk)
    WebDriverWait(browser, PATIENCE).until(lambda d: d.find_elements(By.CSS_SELECTOR, "video"))
    shoot(browser, "new_timelapse_rendered")

    # A second one from the batch list, every frame of all three days.
    browser.get(f"{live_server.url}/admin/batches/timelapsebatch/")
    click_and_load(
        browser, browser.find_element(By.CSS_SELECTOR, ".object-tools a[href*='/timelapsebatch/new/']")
    )
    Select(browser.find_element(By.NAME, "camera")).select_by_visible_text(camera.name)
    click_and_load(browser, browser.find_element(By.NAME, "preview"))
    assert "18 frames at 30 fps" in browser.find_element(By.CSS_SELECTOR, ".tl-preview-facts").text
    click_and_load(browser, browser.find_element(By.NAME, "render"))
    WebDriverWait(browser, PATIENCE).until(lambda d: "/change/" in d.current_url)
    render_batch(TimelapseBatch.objects.latest("pk").pk)
    assert TimelapseBatch.objects.filter(status="completed").count() == 2

    # Share: both batches from the list's action; a draft with a distinct title per video.
    browser.get(f"{live_server.url}/admin/batches/timelapsebatch/")
    for box in browser.find_elements(By.CSS_SELECTOR, "input.action-select"):
        box.click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("create_share_from_batches")
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "button[name=index]"))
    WebDriverWait(browser, PATIENCE).until(lambda d: "/sharing/share/" in d.current_url)
    share = Share.objects.get()
    titles = list(share.share_batches.order_by("display_order").values_list("custom_title", flat=True))
    assert len(set(titles)) == 2 and all(camera.name in t for t in titles), titles
    first = day_start.date()
    assert titles[0].endswith(f"{first + timedelta(days=1)} to {first + timedelta(days=2)}")
    assert titles[1].endswith(f"{first} to {first + timedelta(days=2)}")
    # The batch picker is the admin's autocomplete, by name, not a raw id box.
    picker = browser.find_element(By.CSS_SELECTOR, "select.admin-autocomplete[name$='timelapse_batch']")
    assert camera.name in Select(picker).first_selected_option.text
    shoot(browser, "share_form")

    copy = browser.find_element(By.CSS_SELECTOR, "[data-copy]")
    link = browser.execute_script("return new URL(arguments[0].dataset.copy, location.href).href", copy)
    assert link.startswith(live_server.url + "/share/")
    browser.find_element(By.NAME, "is_active").click()
    click_and_load(browser, browser.find_element(By.NAME, "_continue"))
    WebDriverWait(browser, PATIENCE).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".messagelist .success")
    )
    share.refresh_from_db()
    assert share.is_active

    preview = browser.find_element(By.LINK_TEXT, "Preview").get_attribute("href")
    browser.get(preview)
    assert all(t in browser.page_source for t in titles)
    WebDriverWait(browser, PATIENCE).until(lambda d: d.find_elements(By.TAG_NAME, "video"))
    shoot(browser, "share_preview")

    csp_errors = [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert not csp_errors
