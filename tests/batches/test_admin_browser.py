"""In a real headless Chromium, under the app's CSP, the batch progress bar follows the render."""

from __future__ import annotations

import pytest
from django.test import Client
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from batches.models import TimelapseBatch
from tests.browser import chromium
from tests.waiting import PATIENCE


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "chromium-profile") as driver:
        yield driver


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_progress_bar_refreshes_while_processing_and_reloads_when_done(
    live_server, admin_user, camera, browser
):
    batch = TimelapseBatch.objects.create(camera=camera, batch_type="manual", generation_mode="manual_only",
                                          status="processing", total_frames=100, frames_done=10)  # fmt: skip
    client = Client()
    client.force_login(admin_user)
    browser.get(f"{live_server.url}/admin/login/")
    browser.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value, "path": "/"})
    browser.get(f"{live_server.url}/admin/batches/timelapsebatch/")

    def bar_value(driver):
        return driver.find_element(By.CSS_SELECTOR, "progress.batch-progress").get_attribute("value")

    assert bar_value(browser) == "10"
    TimelapseBatch.objects.filter(pk=batch.pk).update(frames_done=60)
    WebDriverWait(browser, PATIENCE).until(lambda d: bar_value(d) == "60")
    assert "60 / 100" in browser.find_element(By.CSS_SELECTOR, ".batch-progress-text").text

    TimelapseBatch.objects.filter(pk=batch.pk).update(
        status="failed", error_message="ffmpeg failed: disk full"
    )
    WebDriverWait(browser, PATIENCE).until(lambda d: "ffmpeg failed: disk full" in d.page_source)
    csp_errors = [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert not csp_errors
