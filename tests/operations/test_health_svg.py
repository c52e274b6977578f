"""The health plot: images per day and failure rate for 30 days, drawn as safe SVG on the server."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from captures.models import CaptureAttempt
from operations.svg import camera_health, camera_health_svg
from tests.factories import make_camera, make_image

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def attempt(camera, when, status):
    return CaptureAttempt.objects.create(camera=camera, attempted_at=when, status=status)


@pytest.fixture
def history():
    tz = zoneinfo.ZoneInfo("Europe/Berlin")
    now = datetime(2026, 11, 20, 12, 0, tzinfo=tz)
    camera = make_camera(name='Crane <east> & "west"', timezone="Europe/Berlin")
    # Today: 4 images from 5 attempts (1 timed out).
    for minutes in range(4):
        when = now - timedelta(minutes=minutes)
        make_image(camera, when)
        attempt(camera, when, CaptureAttempt.Status.SUCCESS)
    attempt(camera, now - timedelta(minutes=30), CaptureAttempt.Status.TIMEOUT)
    # Two days ago: 1 image, 1 failure.
    two_days_ago = now - timedelta(days=2)
    make_image(camera, two_days_ago)
    attempt(camera, two_days_ago, CaptureAttempt.Status.SUCCESS)
    attempt(camera, two_days_ago, CaptureAttempt.Status.FAILED)
    # 40 days ago: outside the plot.
    make_image(camera, now - timedelta(days=40))
    return camera, now


def test_health_counts_images_and_failures_per_local_day(history):
    camera, now = history

    days = camera_health(camera, 30, now)

    assert len(days) == 30
    assert days[-1].day == now.date()
    assert (days[-1].images, days[-1].attempts, days[-1].failures) == (4, 5, 1)
    assert (days[-3].images, days[-3].failure_rate) == (1, 0.5)
    assert sum(day.images for day in days) == 5
    assert days[0].failure_rate is None


def test_svg_has_a_bar_per_day_scaled_to_the_busiest_and_a_failure_line(history):
    camera, now = history

    root = ET.fromstring(camera_health_svg(camera, now=now))

    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "bar"]
    assert len(bars) == 30
    heights = [float(bar.get("height")) for bar in bars]
    assert heights[-1] == max(heights) > 0
    assert heights[-3] == pytest.approx(heights[-1] / 4, rel=0.05)
    assert heights[0] == 0
    [line] = [p for p in root.iter(f"{SVG}polyline") if p.get("class") == "failure-rate"]
    assert len(line.get("points").split()) == 2  # only days with attempts
    assert "2026-11-20: 4 images, 5 attempts, 20% failed" in [t.text for t in root.iter(f"{SVG}title")]


def test_svg_escapes_the_camera_name(history):
    camera, now = history

    svg = camera_health_svg(camera, now=now)

    assert "<east>" not in svg
    assert "Crane &lt;east&gt; &amp;" in svg
    ET.fromstring(svg)  # still well-formed XML


def test_svg_without_any_captures_says_so():
    camera = make_camera(name="Quiet")
    svg = camera_health_svg(camera)
    assert "No captures in the last 30 days" in svg
    ET.fromstring(svg)


def test_health_view_is_staff_only_and_served_as_svg(client, admin_client, history):
    camera, _ = history
    url = f"/admin/cameras/{camera.pk}/health.svg"

    assert client.get(url).status_code == 302
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert ET.fromstring(response.content).tag == f"{SVG}svg"
    assert admin_client.get("/admin/cameras/999999/health.svg").status_code == 404


def test_recent_health_view_counts_todays_images(admin_client):
    camera = make_camera(name="Now")
    make_image(camera, timezone.now())

    svg = admin_client.get(f"/admin/cameras/{camera.pk}/health.svg").content.decode()

    assert ": 1 images" in svg


def test_embed_snippet_points_at_the_cameras_plot(history):
    from django.template.loader import render_to_string

    camera, _ = history

    html = render_to_string("operations/camera_health_embed.html", {"camera": camera})

    assert f'src="/admin/cameras/{camera.pk}/health.svg"' in html
    assert "&lt;east&gt;" in html and "<east>" not in html
