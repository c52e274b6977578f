"""Backfill runs in the admin against the fake console: start one from the camera page, watch its row
advance, run it again for nothing, read why a console refused, and a view-only operator who cannot start one."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery
from django.contrib.auth.models import Permission
from django.urls import reverse

from captures import backfill_runs, ingest
from captures.fakecamera import make_frames, self_signed_cert
from captures.fakeprotect import LOCAL_USER, FakeProtectConsole
from captures.models import BackfillRun, Image
from tests.captures.test_protect_backfill import API_KEY, DAY, connect
from tests.captures.test_worker import ROOT, procfile_worker, stop, worker_env
from tests.waiting import wait_until
from timelapser.celery import app

pytestmark = pytest.mark.django_db
LOCAL_PASSWORD = LOCAL_USER[1]


@pytest.fixture
def console(tmp_path, settings):
    settings.TIMELAPSER_CAPTURE_PROTECT_BACKFILL_RATE = 20
    with FakeProtectConsole(api_key=API_KEY, tls=self_signed_cert(tmp_path)) as server:
        yield server


@pytest.fixture
def boss(client, django_user_model):
    client.force_login(
        django_user_model.objects.create_superuser("boss", "b@example.com", "pw-long-enough-1")
    )
    return client


def start_in_admin(client, camera, day="2026-11-01", capture=None):
    """POST the camera's "Fill gaps" form; the queued task runs here (eager) when the request commits."""
    url = reverse("admin:captures_backfillrun_start", args=[camera.pk])
    with capture(execute=True):
        return client.post(url, {"first_day": day, "last_day": day})


def test_a_run_started_from_the_camera_page_fills_the_days_gap(
    boss, console, eager_tasks, django_capture_on_commit_callbacks
):
    camera = connect(console)
    page = boss.get(reverse("admin:cameras_camera_change", args=[camera.pk])).content.decode()
    assert reverse("admin:captures_backfillrun_start", args=[camera.pk]) in page
    frame = make_frames(1)[0]
    for hour in (0, 7, 23):
        ingest.store(
            camera, frame, DAY + timedelta(hours=hour), slot=DAY + timedelta(hours=hour), record_attempt=False
        )

    response = start_in_admin(boss, camera, capture=django_capture_on_commit_callbacks)

    run = BackfillRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:captures_backfillrun_progress", args=[run.pk])
    assert (run.state, run.slots_total, run.slots_filled, run.slots_skipped, run.slots_failed) == (
        "done",
        24,
        21,
        3,
        0,
    )
    assert run.started_by.username == "boss" and run.started_at and run.finished_at
    assert (run.range_start, run.range_end) == (DAY, DAY + timedelta(days=1))
    assert Image.objects.filter(camera=camera, processing_metadata__backfilled=True).count() == 21
    progress = boss.get(response["Location"]).content.decode()
    assert "Done" in progress and "21" in progress and "100%" in progress
    assert boss.get(reverse("admin:captures_backfillrun_progress_json", args=[run.pk])).json()["filled"] == 21
    assert LOCAL_PASSWORD not in progress and API_KEY not in progress


def test_the_runs_row_advances_as_slots_are_filled(console, settings):
    """GIVEN 24 empty hourly slots WHEN the run goes THEN its stored row counts up to 24 and ends done."""
    camera = connect(console)
    run = BackfillRun.objects.create(camera=camera, range_start=DAY, range_end=DAY + timedelta(days=1))
    seen = []

    def read_row(_report):
        stored = BackfillRun.objects.get(pk=run.pk)  # what the progress page would read now
        seen.append((stored.state, stored.slots_total, stored.slots_done))

    backfill_runs.execute(run, progress=read_row)

    assert seen[0] == ("running", 24, 0)
    assert [done for _, _, done in seen] == sorted(done for _, _, done in seen)
    assert 0 < seen[1][2] < 24 and seen[-1][2] == 24
    assert BackfillRun.objects.get(pk=run.pk).state == "done"


def test_a_second_run_of_the_same_day_asks_the_console_for_nothing(
    boss, console, eager_tasks, django_capture_on_commit_callbacks
):
    camera = connect(console)
    start_in_admin(boss, camera, capture=django_capture_on_commit_callbacks)
    asked = len(console.recording_requests)

    start_in_admin(boss, camera, capture=django_capture_on_commit_callbacks)

    second = BackfillRun.objects.order_by("-pk").first()
    assert (second.state, second.slots_filled, second.slots_skipped) == ("done", 0, 24)
    assert len(console.recording_requests) == asked == 24
    assert Image.objects.filter(camera=camera).count() == 24


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("wrong_password", "refused the local user's login (HTTP 401)"),
        ("forbidden", "may not view recordings (HTTP 403)"),
        ("rate_limited", "kept rate-limiting recording requests (HTTP 429)"),
    ],
)
def test_a_refusing_console_shows_why_on_the_progress_page(
    boss, console, eager_tasks, django_capture_on_commit_callbacks, settings, setup, reason
):
    settings.TIMELAPSER_CAPTURE_PROTECT_RETRIES = 1
    camera = connect(console, password="not-the-password" if setup == "wrong_password" else LOCAL_PASSWORD)
    console.recordings_forbidden = setup == "forbidden"
    if setup == "rate_limited":
        console.recording_script.extend([(429, {"Retry-After": "0"})] * 2)

    response = start_in_admin(boss, camera, capture=django_capture_on_commit_callbacks)

    run = BackfillRun.objects.get()
    assert run.state == "failed" and reason in run.error
    page = boss.get(response["Location"]).content.decode()
    assert "Failed" in page and reason in page.replace("&#x27;", "'")
    assert "not-the-password" not in page and LOCAL_PASSWORD not in page
    assert not Image.objects.exists()


def test_one_429_is_waited_out_and_the_run_goes_on(
    boss, console, eager_tasks, django_capture_on_commit_callbacks
):
    camera = connect(console)
    console.recording_script.append((429, {"Retry-After": "0"}))
    start_in_admin(boss, camera, capture=django_capture_on_commit_callbacks)
    assert BackfillRun.objects.get().slots_filled == 24


def test_a_view_only_operator_sees_runs_but_cannot_start_one(
    boss, client, console, django_user_model, eager_tasks, django_capture_on_commit_callbacks
):
    camera = connect(console)
    start_in_admin(boss, camera, capture=django_capture_on_commit_callbacks)
    run = BackfillRun.objects.get()
    viewer = django_user_model.objects.create_user("viewer", password="pw-long-enough-2", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_camera", "view_backfillrun"]))
    client.force_login(viewer)

    camera_page = client.get(reverse("admin:cameras_camera_change", args=[camera.pk])).content.decode()
    start_url = reverse("admin:captures_backfillrun_start", args=[camera.pk])
    assert start_url not in camera_page
    assert client.get(start_url).status_code == 403
    assert client.post(start_url, {"first_day": "2026-11-02", "last_day": "2026-11-02"}).status_code == 403
    assert BackfillRun.objects.count() == 1
    progress = client.get(reverse("admin:captures_backfillrun_progress", args=[run.pk]))
    assert progress.status_code == 200 and "Fill other days" not in progress.content.decode()


def test_a_user_without_view_permission_cannot_read_a_run(boss, client, console, django_user_model):
    camera = connect(console)
    run = BackfillRun.objects.create(camera=camera, range_start=DAY, range_end=DAY + timedelta(days=1))
    staff = django_user_model.objects.create_user("staff", password="pw-long-enough-3", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:captures_backfillrun_progress_json", args=[run.pk])).status_code == 403


def test_bad_ranges_are_form_errors_not_runs(boss, console):
    camera = connect(console)
    url = reverse("admin:captures_backfillrun_start", args=[camera.pk])
    backwards = boss.post(url, {"first_day": "2026-11-02", "last_day": "2026-11-01"})
    assert backwards.status_code == 200 and "must not be before" in backwards.content.decode()
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    ahead = boss.post(url, {"first_day": future, "last_day": future})
    assert "in the future" in ahead.content.decode()
    garbage = boss.post(url, {"first_day": "x", "last_day": "y"})
    assert garbage.status_code == 200 and "Enter a valid date" in garbage.content.decode()
    assert not BackfillRun.objects.exists()


def test_a_second_run_while_one_is_going_is_refused(boss, console):
    camera = connect(console)
    BackfillRun.objects.create(
        camera=camera, range_start=DAY, range_end=DAY + timedelta(days=1), state="running"
    )
    url = reverse("admin:captures_backfillrun_start", args=[camera.pk])
    response = boss.post(url, {"first_day": "2026-11-01", "last_day": "2026-11-01"})
    assert "already running" in response.content.decode()
    assert BackfillRun.objects.count() == 1


def test_the_task_goes_to_the_maintenance_queue():
    route = app.amqp.router.route({}, "captures.tasks.run_backfill")
    assert route["queue"].name == "maintenance"
    assert app.amqp.router.route({}, "captures.tasks.capture_camera")["queue"].name == "capture"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_backfill_and_its_progress_is_readable_meanwhile(
    console, settings, data_dir, redis_server, tmp_path
):
    """The task in a real Celery worker (the Procfile's thread pool) against the fake console over HTTPS."""
    camera = connect(console)
    run = BackfillRun.objects.create(camera=camera, range_start=DAY, range_end=DAY + timedelta(days=1))
    broker = redis_server.url(1)
    queue = f"maintenance-test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            procfile_worker(queue), cwd=ROOT, env=worker_env(settings, data_dir, broker),
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    sender = Celery(broker=broker)
    seen = []

    def finished() -> bool:
        row = BackfillRun.objects.get(pk=run.pk)
        seen.append(row.slots_done)
        return row.finished

    try:
        sender.send_task("captures.tasks.run_backfill", args=[run.pk], queue=queue)
        wait_until(finished, "the backfill run to finish", log.read_text)
    finally:
        stop(worker)
        sender.close()
    run.refresh_from_db()
    assert (run.state, run.slots_filled, run.error) == ("done", 24, ""), log.read_text()
    assert seen == sorted(seen) and seen[-1] == 24
    assert Image.objects.filter(camera=camera, processing_metadata__backfilled=True).count() == 24
    assert API_KEY not in log.read_text() and LOCAL_PASSWORD not in log.read_text()


def test_a_run_refused_part_way_keeps_what_it_filled_and_says_why(console):
    camera = connect(console)
    run = BackfillRun.objects.create(camera=camera, range_start=DAY, range_end=DAY + timedelta(days=1))

    def refuse_after_ten(report):
        if report.filled >= 10:
            console.recordings_forbidden = True  # the operator changed the user's role meanwhile

    backfill_runs.execute(run, progress=refuse_after_ten)

    stored = BackfillRun.objects.get(pk=run.pk)
    assert (stored.state, stored.slots_filled, stored.slots_total) == ("failed", 10, 24)
    assert "may not view recordings" in stored.error and stored.finished_at is not None
    assert Image.objects.filter(camera=camera).count() == 10
