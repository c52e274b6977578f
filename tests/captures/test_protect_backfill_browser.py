"""A real headless Chromium starts a backfill from the camera page, follows a running one (the polling
script under the app's CSP) and reads a refusal; screenshots at 1280x800 and 390x844."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from captures.fakecamera import self_signed_cert
from captures.fakeprotect import FakeProtectConsole
from captures.models import BackfillRun
from tests.browser import chromium
from tests.captures.test_protect_backfill import API_KEY, DAY, connect
from tests.waiting import PATIENCE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "captures"
SIZES = ((1280, 800), (390, 844))


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "chromium-profile", wait_for_elements=True) as driver:
        yield driver


@pytest.fixture
def console(tmp_path, settings):
    settings.TIMELAPSER_CAPTURE_PROTECT_BACKFILL_RATE = 20
    with FakeProtectConsole(api_key=API_KEY, tls=self_signed_cert(tmp_path)) as server:
        yield server


def shoot(browser, name: str) -> None:
    for width, height in SIZES:
        browser.set_window_size(width, height)
        assert browser.save_screenshot(str(ARTIFACTS / f"{name}_{width}x{height}.png"))
        # The page fits a phone: it never scrolls sideways.
        assert browser.execute_script("return document.documentElement.scrollWidth <= innerWidth"), name
    browser.set_window_size(*SIZES[0])


def test_start_follow_and_read_a_refusal_in_a_browser(live_server, admin_user, console, browser, eager_tasks):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    camera = connect(console)
    client = Client()
    client.force_login(admin_user)
    browser.get(f"{live_server.url}/admin/login/")
    browser.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value, "path": "/"})
    browser.set_window_size(*SIZES[0])

    # Start: the camera page's button, the form's default (yesterday), and the task runs as the request commits.
    browser.get(f"{live_server.url}/admin/cameras/camera/{camera.pk}/change/")
    browser.find_element(By.CSS_SELECTOR, f".object-tools a[href$='/backfillrun/start/{camera.pk}/']").click()
    shoot(browser, "backfill_start")
    browser.find_element(By.CSS_SELECTOR, ".tl-backfill-form button[type=submit]").click()
    assert browser.find_element(By.ID, "tl-backfill-state").text == "Done"
    assert browser.find_element(By.ID, "tl-backfill-filled").text == "24"
    shoot(browser, "backfill_done")

    # Follow: a run the worker is part way through; the page's script picks up where it got to.
    running = BackfillRun.objects.create(
        camera=camera, range_start=DAY, range_end=DAY.replace(day=2), state="running", slots_total=24,
        slots_filled=8, slots_skipped=2, started_by=admin_user, started_at=timezone.now(),
    )  # fmt: skip
    browser.get(f"{live_server.url}/admin/captures/backfillrun/{running.pk}/progress/")
    assert browser.find_element(By.ID, "tl-backfill-percent").text == "41%"
    shoot(browser, "backfill_running")
    BackfillRun.objects.filter(pk=running.pk).update(slots_filled=20)
    # The script reloads the page when the run ends: an element read mid-reload is stale, so read again.
    wait = WebDriverWait(browser, PATIENCE, ignored_exceptions=[StaleElementReferenceException])
    wait.until(lambda d: d.find_element(By.ID, "tl-backfill-filled").text == "20")
    BackfillRun.objects.filter(pk=running.pk).update(
        state="done", slots_filled=22, finished_at=timezone.now()
    )
    # Done, and reloaded: the finish time shows (the script only updates the counters in place).
    wait.until(lambda d: "not yet" not in d.find_element(By.CSS_SELECTOR, ".tl-backfill-counts").text)
    assert browser.find_element(By.ID, "tl-backfill-state").text == "Done"

    # A refusal: the operator reads what to fix.
    console.recordings_forbidden = True
    browser.get(f"{live_server.url}/admin/captures/backfillrun/start/{camera.pk}/")
    browser.find_element(By.NAME, "first_day").clear()
    browser.execute_script("document.querySelector('[name=first_day]').value = '2026-11-01'")
    browser.execute_script("document.querySelector('[name=last_day]').value = '2026-11-01'")
    browser.find_element(By.CSS_SELECTOR, ".tl-backfill-form button[type=submit]").click()
    assert "may not view recordings" in browser.find_element(By.CSS_SELECTOR, ".tl-backfill-error").text
    shoot(browser, "backfill_refused")
    assert API_KEY not in browser.page_source

    problems = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not problems, problems
    print("screenshots:", *sorted(ARTIFACTS.glob("backfill_*.png")))
