"""A real headless Chromium connects a console in the admin (pinning its certificate on first use),
ticks two cameras and adds them; screenshots at desktop and phone sizes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from cameras.models import Camera, ProtectConsole
from captures.fakecamera import self_signed_cert
from captures.fakeprotect import FakeProtectConsole
from tests.browser import chromium, click_and_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "browser-test-password"
API_KEY = "browser-test-k3y-97531"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "chromium-profile", wait_for_elements=True) as driver:
        yield driver


@pytest.fixture
def console(tmp_path, settings, data_dir, django_user_model):
    settings.TIMELAPSER_SECRETS_KEYS = [Fernet.generate_key().decode()]
    django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    with FakeProtectConsole(api_key=API_KEY, tls=self_signed_cert(tmp_path)) as server:
        yield server


def shoot(browser, name: str, out: Path) -> list[Path]:
    shots = []
    for label, (width, height) in SIZES.items():
        browser.set_window_size(width, height)
        path = out / f"{name}-{label}.png"
        assert browser.save_screenshot(str(path))
        shots.append(path)
    browser.set_window_size(*SIZES["desktop"])
    return shots


def test_connect_a_console_and_add_two_cameras_in_a_browser(browser, live_server, console, tmp_path):
    from selenium.webdriver.common.by import By

    out = Path(os.environ.get("TIMELAPSER_SCREENSHOTS", tmp_path))
    browser.set_window_size(*SIZES["desktop"])
    browser.get(f"{live_server.url}/admin/login/?next=/admin/cameras/protectconsole/add/")
    browser.find_element(By.NAME, "username").send_keys("boss")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "input[type=submit]"))

    browser.find_element(By.NAME, "address").send_keys(f"https://{console.address()}")
    browser.find_element(By.NAME, "api_key").send_keys(API_KEY)
    click_and_load(browser, browser.find_element(By.NAME, "_save"))
    error = browser.find_element(By.CSS_SELECTOR, ".field-certificate_sha256 .errorlist").text
    seen = browser.find_element(By.NAME, "certificate_sha256").get_attribute("value")
    assert len(seen) == 64 and seen in error
    shots = shoot(browser, "protect-console-tofu", out)
    # The key field is write-only: it comes back empty and must be typed again.
    assert browser.find_element(By.NAME, "api_key").get_attribute("value") == ""
    browser.find_element(By.NAME, "api_key").send_keys(API_KEY)
    click_and_load(browser, browser.find_element(By.NAME, "_save"))

    assert "Cameras on" in browser.find_element(By.TAG_NAME, "h1").text
    assert "Offline" in browser.find_element(By.ID, "result_list").text
    shots += shoot(browser, "protect-cameras", out)
    for key in console.camera_ids[:2]:
        browser.find_element(By.CSS_SELECTOR, f"input[value='{key}']").click()
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "button.tl-add-cameras"))
    assert "Added 2" in browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    shots += shoot(browser, "protect-cameras-added", out)
    assert sorted(Camera.objects.values_list("name", flat=True)) == ["Front Yard", "Garden"]
    assert ProtectConsole.objects.get().certificate_sha256 == seen
    assert API_KEY not in browser.page_source
    print("screenshots:", *shots)
