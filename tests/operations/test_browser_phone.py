"""On a phone (390x844) in real Chromium: the dashboard never scrolls sideways, and the
camera page's health plot fits the screen with no label drawn over another."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image as PILImage

from tests.browser import chromium
from tests.factories import make_camera, make_image
from tests.waiting import PATIENCE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Kept after the run for a person to look at (ignored by git).
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "operations"
# Long enough to have run into the legend before titles were shortened.
LONG_NAME = "North-east corner of the tower crane, level 14 looking south over the yard"

# Every <text> of the plot as a box in the SVG's own units (overlap survives scaling).
TEXT_BOXES = """
const boxes = [];
for (const node of document.querySelectorAll('svg text')) {
  const b = node.getBBox();
  boxes.push({text: node.textContent, left: b.x, right: b.x + b.width, top: b.y, bottom: b.y + b.height});
}
return boxes;
"""


@pytest.fixture
def phone(tmp_path):
    with chromium(tmp_path / "chromium-profile", "--window-size=390,844", wait_for_elements=True) as driver:
        yield driver


@pytest.fixture
def camera(data_dir):
    camera = make_camera(name=LONG_NAME, timezone="UTC")
    relative = f"images/{camera.pk}/latest.jpg"
    (data_dir / relative).parent.mkdir(parents=True)
    PILImage.new("RGB", (640, 360), (60, 120, 180)).save(data_dir / relative, "JPEG")
    now = timezone.now()
    # A picture on each of the last 30 days, so every day label and bar is drawn.
    for days_ago in range(30):
        make_image(camera, now - timedelta(days=days_ago, minutes=5), file_path=relative)
    return camera


def signed_in(phone, live_server, admin_user):
    client = Client()
    client.force_login(admin_user)
    phone.get(f"{live_server.url}/admin/login/")
    phone.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value, "path": "/"})


def loaded(driver) -> bool:
    return driver.execute_script("return document.readyState") == "complete"


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    pairs = []
    for index, first in enumerate(boxes):
        for second in boxes[index + 1 :]:
            apart = (
                first["right"] <= second["left"]
                or second["right"] <= first["left"]
                or first["bottom"] <= second["top"]
                or second["bottom"] <= first["top"]
            )
            if not apart:
                pairs.append((first["text"], second["text"]))
    return pairs


def test_dashboard_and_health_plot_fit_a_phone(phone, live_server, admin_user, camera):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    signed_in(phone, live_server, admin_user)
    phone.set_window_size(390, 844)

    phone.get(f"{live_server.url}/admin/dashboard/")
    WebDriverWait(phone, PATIENCE).until(loaded)
    assert phone.find_elements(By.CSS_SELECTOR, f'article[data-camera="{camera.pk}"]')
    assert phone.execute_script("return document.documentElement.scrollWidth <= innerWidth")
    phone.save_screenshot(str(ARTIFACTS / "dashboard_390x844.png"))

    phone.get(f"{live_server.url}/admin/cameras/camera/{camera.pk}/change/")
    WebDriverWait(phone, PATIENCE).until(loaded)
    plot = phone.find_element(By.CSS_SELECTOR, ".tl-health-img")
    phone.execute_script("arguments[0].scrollIntoView()", plot)
    WebDriverWait(phone, PATIENCE).until(
        lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", plot)
    )
    width = phone.execute_script("return arguments[0].getBoundingClientRect().right", plot)
    assert width <= phone.execute_script("return innerWidth")
    assert phone.execute_script("return document.documentElement.scrollWidth <= innerWidth")
    phone.save_screenshot(str(ARTIFACTS / "camera_health_390x844.png"))

    phone.get(f"{live_server.url}/admin/cameras/{camera.pk}/health.svg")
    WebDriverWait(phone, PATIENCE).until(lambda d: d.find_elements(By.TAG_NAME, "svg"))
    boxes = phone.execute_script(TEXT_BOXES)
    assert len([box for box in boxes if box["text"][2:3] == "-"]) >= 5  # the day labels are there
    assert overlapping(boxes) == []
