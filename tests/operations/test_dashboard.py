"""The dashboard shows each camera's state at a glance, in a fixed number of queries."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from batches.models import TimelapseBatch
from cameras.models import Camera
from operations.dashboard import Status, camera_cards, next_capture_at
from tests.factories import make_batch, make_camera, make_image, make_share

pytestmark = pytest.mark.django_db

URL = "/admin/dashboard/"


def card_for(cards, camera):
    [card] = [card for card in cards if card.camera.pk == camera.pk]
    return card


def test_anonymous_and_non_staff_users_are_sent_to_the_login(client, django_user_model):
    assert client.get(URL).status_code == 302
    user = django_user_model.objects.create_user("viewer", password="pw-for-tests-1")
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_each_camera_gets_a_card_with_its_status_light(admin_client):
    now = timezone.now()
    healthy = make_camera(name="Healthy")
    make_image(healthy, now - timedelta(minutes=1))
    failing = make_camera(name="Failing", connection_failures=4)
    disabled = make_camera(name="Disabled", enabled=False)
    # Captures on no weekday but today's neighbour: outside its window now.
    other_day = (now.isoweekday() % 7) + 1
    outside = make_camera(name="Weekends", timezone="UTC", capture_weekdays=[other_day])

    page = admin_client.get(URL).content.decode()

    for camera, status in [
        (healthy, "ok"),
        (failing, "failing"),
        (disabled, "disabled"),
        (outside, "outside"),
    ]:
        assert f'class="tl-card tl-status-{status}" data-camera="{camera.pk}"' in page, camera.name
    assert "Outside its window" in page
    assert "No image yet" in page


def test_card_figures_count_today_in_the_cameras_time_zone_and_sum_disk_use():
    tz = zoneinfo.ZoneInfo("Pacific/Auckland")
    now = datetime(2026, 3, 10, 9, 0, tzinfo=tz)  # 09:00 local; local midnight was 9 hours ago
    camera = make_camera(name="Auckland", timezone="Pacific/Auckland")
    make_image(camera, now - timedelta(hours=1), file_size_bytes=1500)
    make_image(camera, now - timedelta(hours=8), file_size_bytes=2500)
    latest = make_image(camera, now - timedelta(minutes=5), file_size_bytes=1000)
    make_image(camera, now - timedelta(hours=10), file_size_bytes=5000)  # yesterday, local time
    other = make_camera(name="Empty")

    cards = camera_cards(now)

    card = card_for(cards, camera)
    assert card.images_today == 3
    assert card.disk_bytes == 10000
    assert card.latest_image_id == latest.pk
    assert card.last_captured_at == now - timedelta(minutes=5)
    empty = card_for(cards, other)
    assert (empty.images_today, empty.disk_bytes, empty.latest_image_id) == (0, 0, None)


def test_next_capture_comes_from_the_beat_task_or_else_last_capture_plus_interval():
    now = timezone.now()
    # Saving a camera with a URL reference gives it an enabled beat task at its interval.
    scheduled = make_camera(name="Scheduled", encryption_key_ref="env:CAM_URL", capture_interval_seconds=600)
    PeriodicTask.objects.filter(pk=scheduled.periodic_task_id).update(last_run_at=now)
    scheduled.refresh_from_db()
    loose = make_camera(name="Loose", capture_interval_seconds=300)
    Camera.objects.filter(pk=loose.pk).update(periodic_task=None)
    loose.refresh_from_db()
    no_url = make_camera(name="No URL yet")  # its beat task exists but is disabled
    last = now - timedelta(seconds=100)

    assert abs(next_capture_at(scheduled, None, now) - (now + timedelta(minutes=10))) < timedelta(seconds=2)
    assert next_capture_at(loose, last, now) == last + timedelta(seconds=300)
    assert next_capture_at(loose, None, now) is None
    assert next_capture_at(no_url, last, now) is None
    loose.enabled = False
    assert next_capture_at(loose, last, now) is None


def test_page_shows_recent_batches_with_progress_and_shares_expiring_soon(admin_client):
    camera = make_camera(name="Tower")
    images = [make_image(camera) for _ in range(4)]
    running = make_batch(camera, images, status=TimelapseBatch.Status.PROCESSING)
    TimelapseBatch.objects.filter(pk=running.pk).update(frames_done=1)
    make_batch(camera, status=TimelapseBatch.Status.FAILED, error_message="no frames in the chosen range")
    make_share(title="Client preview", expires_at=timezone.now() + timedelta(days=2))
    make_share(title="Long-lived", expires_at=timezone.now() + timedelta(days=30))

    page = admin_client.get(URL).content.decode()

    assert '<progress value="25" max="100">' in page
    assert "no frames in the chosen range" in page
    assert "Client preview" in page
    assert "Long-lived" not in page


def test_page_never_shows_a_camera_url_hash_or_secret_reference(admin_client):
    camera = make_camera(name="Secret", url_hash="ef" * 32, encryption_key_ref="env:SECRET_CAM_URL")
    make_image(camera)

    page = admin_client.get(URL).content.decode()

    assert "ef" * 32 not in page
    assert "SECRET_CAM_URL" not in page


def _populate(count: int) -> None:
    for _ in range(count):
        camera = make_camera(timezone="Europe/Berlin")
        make_image(camera)
        make_batch(camera)


def test_query_count_does_not_grow_with_the_number_of_cameras(admin_client):
    _populate(1)
    make_share(title="Soon", expires_at=timezone.now() + timedelta(days=1))
    admin_client.get(URL)  # warm the session and content-type caches
    cache.clear()  # count the disk-use query too
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(URL).status_code == 200

    _populate(6)
    make_camera(timezone="America/New_York", connection_failures=2)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        page = admin_client.get(URL).content.decode()

    assert page.count('class="tl-card ') == 8
    assert "6.8\xa0KB of images" in page  # 7 images of 1000 bytes: the disk query ran
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_outside_window_is_judged_in_the_cameras_local_time():
    tz = zoneinfo.ZoneInfo("America/Chicago")
    camera = make_camera(
        name="Chicago", timezone="America/Chicago", window_start=time(7), window_end=time(17)
    )
    morning = datetime(2026, 6, 1, 8, 0, tzinfo=tz)
    evening = datetime(2026, 6, 1, 18, 0, tzinfo=tz)

    assert card_for(camera_cards(morning), camera).status == Status.OK
    assert card_for(camera_cards(evening), camera).status == Status.OUTSIDE_WINDOW


def test_admin_index_links_to_the_dashboard(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert 'href="/admin/dashboard/"' in page


@pytest.mark.parametrize(
    ("threshold", "failures", "status"),
    [
        (3, 0, Status.OK),
        (3, 1, Status.WARNING),
        (3, 2, Status.WARNING),
        (3, 3, Status.FAILING),
        (3, 9, Status.FAILING),
        (1, 1, Status.FAILING),
        (5, 4, Status.WARNING),
    ],
)
def test_light_turns_red_only_after_the_notification_threshold(settings, threshold, failures, status):
    """GIVEN "camera down" is sent after N failures in a row, WHEN a camera failed k times,
    THEN its light is amber (warning) for 1..N-1 and red (failing) from N on."""
    settings.TIMELAPSER_NOTIFY_DOWN_AFTER = threshold
    camera = make_camera(name="Gate", timezone="UTC", connection_failures=failures)

    assert card_for(camera_cards(), camera).status == status


def test_page_shows_a_warning_light_and_counts_it_apart_from_failing(admin_client, settings):
    settings.TIMELAPSER_NOTIFY_DOWN_AFTER = 3
    once = make_camera(name="Once", timezone="UTC", connection_failures=1)
    down = make_camera(name="Down", timezone="UTC", connection_failures=3)

    page = admin_client.get(URL).content.decode()

    assert f'class="tl-card tl-status-warning" data-camera="{once.pk}"' in page
    assert f'class="tl-card tl-status-failing" data-camera="{down.pk}"' in page
    assert "1 with recent failures" in page
    assert "1 failing" in page


def test_live_part_has_the_cards_without_the_page_around_them(admin_client):
    camera = make_camera(name="Fresh")
    image = make_image(camera)

    page = admin_client.get(URL).content.decode()
    live = admin_client.get("/admin/dashboard/live/")

    assert 'data-refresh-url="/admin/dashboard/live/"' in page
    assert 'data-refresh-seconds="30"' in page
    assert "timelapser/dashboard.js" in page
    assert live.status_code == 200
    assert live["Cache-Control"] == "private, no-store"
    body = live.content.decode()
    assert f'data-camera="{camera.pk}"' in body and f"/admin/thumbnails/{image.pk}.jpg" in body
    assert "<html" not in body and "<script" not in body


def test_live_part_is_for_staff_only(client, django_user_model):
    assert client.get("/admin/dashboard/live/").status_code == 302
    client.force_login(django_user_model.objects.create_user("viewer", password="pw-for-tests-1"))
    response = client.get("/admin/dashboard/live/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_status_command_prints_the_dashboard_and_fails_while_a_camera_is_down(settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.TIMELAPSER_NOTIFY_DOWN_AFTER = 3
    yard = make_camera(name="Yard", timezone="UTC")
    make_image(yard, timezone.now() - timedelta(minutes=1), file_size_bytes=2048)
    make_batch(yard, status=TimelapseBatch.Status.FAILED)
    make_share(title="Client preview", expires_at=timezone.now() + timedelta(days=2))
    shaky = make_camera(name="Shaky", timezone="UTC", connection_failures=1)
    out = StringIO()

    call_command("status", stdout=out)

    text = out.getvalue()
    assert "Yard: OK; last capture " in text and "1 image(s) today, 2.0\xa0KB" in text
    assert "Shaky: Recent failures;" in text
    assert "(Yard): failed 0%" in text
    assert "share 'Client preview' expires" in text

    Camera.objects.filter(pk=shaky.pk).update(connection_failures=3)
    with pytest.raises(CommandError, match="1 camera\\(s\\) failing") as excinfo:
        call_command("status", stdout=StringIO())
    assert excinfo.value.returncode == 1
