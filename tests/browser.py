"""One way to start the real headless Chromium the page tests drive (Debian's chromium + chromedriver)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.waiting import PATIENCE

FONT_DIRS = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts")]


def missing_packages() -> list[str]:
    """The Debian packages a browser test needs and this machine lacks (looked up on PATH)."""
    missing = [package for package, command in (("chromium", "chromium"), ("chromium-driver", "chromedriver"))
               if shutil.which(command) is None]  # fmt: skip
    # With no font at all Chromium's renderer crashes on the first page ("session deleted").
    if not any(any(folder.rglob("*.[ot]tf")) for folder in FONT_DIRS if folder.is_dir()):
        missing.append("fonts-dejavu-core")
    return missing


def start_chromium(profile_dir: Path, *extra_flags: str):
    """A fresh-profile headless Chromium; skipped (a failure under CI) when it is not installed."""
    if missing := missing_packages():
        pytest.skip(f"needs the Debian package(s) {', '.join(missing)} (apt-get install {' '.join(missing)})")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        # Without these, Chromium's calls home are refused by this machine's closed network.
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile_dir}",
        *extra_flags,
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: selenium-manager must never try to download one.
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    # What a page or script may take on a loaded machine, never what it needs on an idle one.
    driver.set_page_load_timeout(PATIENCE)
    driver.set_script_timeout(PATIENCE)
    return driver


@contextmanager
def chromium(profile_dir: Path, *extra_flags: str, wait_for_elements: bool = False) -> Iterator:
    """start_chromium for one fixture's life: quit and its profile removed afterwards.

    wait_for_elements: finding an element waits up to PATIENCE for it to appear, for
    tests that click through pages (after a click, the next page can be slow to come).
    """
    driver = start_chromium(profile_dir, *extra_flags)
    if wait_for_elements:
        driver.implicitly_wait(PATIENCE)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)


def click_and_load(driver, element) -> None:
    """Click something that loads a new page, and return once that page has loaded.

    A click returns before the browser has left the old page: an element looked up
    then can come from the old page (and go stale) or be missing from a half-built
    new one, more often on a loaded machine.
    """
    from selenium.webdriver.support.ui import WebDriverWait

    old_page = driver.find_element("tag name", "html")
    element.click()
    WebDriverWait(driver, PATIENCE).until(_gone(old_page))
    WebDriverWait(driver, PATIENCE).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def _gone(element):
    """selenium's staleness_of, plus ChromeDriver's other answer for a page being torn down.

    Asked mid-navigation, ChromeDriver can answer "unknown error: unhandled inspector error:
    Node with given id does not belong to the document" instead of a stale element: seen
    once under CI's load on the Protect console test. Either means the old page is leaving.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def left(_driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return True
            raise
        return False

    return left
