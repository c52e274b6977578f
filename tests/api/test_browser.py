"""In a real headless Chromium, under the app's CSP: the API docs render, the token page reads well.

Set SCREENSHOT_DIR to keep 1280x800 and 390x844 screenshots of each page.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from api.models import Webhook, WebhookDelivery
from tests.browser import chromium

SIZES = [(1280, 800), (390, 844)]


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "chromium-profile") as driver:
        yield driver


def _shoot(browser, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if not folder:
        return
    for width, height in SIZES:
        browser.set_window_size(width, height)
        browser.save_screenshot(str(Path(folder) / f"{name}-{width}.png"))
    browser.set_window_size(*SIZES[0])


def _csp_errors(browser) -> list:
    return [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_api_docs_render_every_group_under_the_csp(live_server, browser):
    browser.get(f"{live_server.url}/api/v1/docs")
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-tag"))
    tags = {element.text.split("\n")[0] for element in browser.find_elements(By.CSS_SELECTOR, ".opblock-tag")}
    assert {"cameras", "images", "batches", "shares"} <= tags
    assert not _csp_errors(browser)
    _shoot(browser, "api-docs")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_new_token_is_shown_once_on_the_admin_page(live_server, admin_user, browser):
    client = Client()
    client.force_login(admin_user)
    browser.get(f"{live_server.url}/admin/login/")
    browser.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value, "path": "/"})
    browser.get(f"{live_server.url}/admin/api/apitoken/add/")
    browser.find_element(By.NAME, "name").send_keys("Home Assistant")
    browser.find_element(By.NAME, "_save").click()
    WebDriverWait(browser, 15).until(lambda d: "not shown again" in d.page_source)
    message = browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    assert "tl_" in message
    _shoot(browser, "admin-token-created")
    hook = Webhook.objects.create(
        name="Ops Slack",
        url="https://hooks.example.com/T0KEN",
        events=["camera.down", "render.failed"],
        secret_salt="s",
    )
    WebhookDelivery.objects.create(
        webhook=hook, event="camera.down", status="delivered", attempts=1, response_status=204
    )
    WebhookDelivery.objects.create(
        webhook=hook, event="render.failed", status="failed", attempts=6, response_status=500,
        last_error="The receiver answered HTTP 500.",
    )  # fmt: skip
    browser.get(f"{live_server.url}/admin/api/webhook/")
    assert "T0KEN" not in browser.page_source
    _shoot(browser, "admin-webhooks")
    browser.get(f"{live_server.url}/admin/api/webhookdelivery/")
    assert "The receiver answered HTTP 500." in browser.page_source
    _shoot(browser, "admin-deliveries")
    assert not _csp_errors(browser)
