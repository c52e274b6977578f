"""End to end (issue #15): a real gunicorn serves a continuous share while a real Celery render
worker updates its video. Every poll of the page and of the video (by Range) during the render
answers 200/206 with the old video's bytes and size; then the new video, and never the old again."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from celery import Celery
from django.conf import settings as django_settings
from django.utils import timezone

from batches import continuous, render
from batches.models import TimelapseBatch
from captures.models import Image
from tests.batches.conftest import jpeg_bytes
from tests.batches.test_worker import ROOT, database_url
from tests.factories import make_camera, make_share
from tests.timelapser.test_run_command import free_port

Status = TimelapseBatch.Status
# Generous: the machine is shared; these bound a hang, they do not measure anything.
START_TIMEOUT = 120
RENDER_TIMEOUT = 600


def add_frames(camera, data_dir: Path, start, count: int, noisy: bool) -> None:
    draw = (lambda image: image.frombytes(os.urandom(640 * 480 * 3))) if noisy else None
    for i in range(count):
        captured_at = start + timedelta(minutes=i)
        data = jpeg_bytes((40, 90, 160), (640, 480), draw)
        relative = f"images/{camera.pk}/{captured_at:%Y%m%d-%H%M%S}.jpg"
        (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / relative).write_bytes(data)
        Image.objects.create(
            camera=camera, filename=Path(relative).name, file_path=relative, file_size_bytes=len(data),
            file_hash=hashlib.sha256(data).hexdigest(), width=640, height=480, format="JPEG",
            captured_at=captured_at,
        )  # fmt: skip


def environment(data_dir: Path, broker: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "TIMELAPSER_DATA_DIR": str(data_dir),
        "SECRET_KEY": django_settings.SECRET_KEY,
        "TIMELAPSER_RENDER_PRESET": "veryslow",  # a render long enough to poll many times
        "SHARING_RATE_LIMIT": "100000000/m",
        "SHARING_MEDIA_RATE_LIMIT": "100000000/m",
        "LOG_LEVEL": "WARNING",
    }


def wait_until(predicate, timeout: float, what: str, logs: list[Path]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}:\n" + "\n".join(log.read_text()[-2000:] for log in logs))


def which_video(response: httpx.Response, start: int, known) -> str:
    """The video a Range response came from; it must be whole: its bytes and size agree."""
    assert response.status_code == 206, response.status_code
    total = int(response.headers["Content-Range"].rsplit("/", 1)[1])
    assert len(response.content) == int(response.headers["Content-Length"])
    for name, data in known().items():
        if len(data) == total and data[start : start + len(response.content)] == response.content:
            return name
    pytest.fail("the bytes served are neither the old video's nor the new one's")


def poll(client: httpx.Client, page_url: str, video_url: str, known) -> list[str]:
    """One visit: the page, then the video whole and a slice by Range; the videos they came from.

    known() gives {"old": bytes, "new": bytes once published}.
    """
    page = client.get(page_url)
    assert page.status_code == 200 and "/video/" in page.text, page.status_code
    whole = client.get(video_url, headers={"Range": "bytes=0-"})
    shown = [which_video(whole, 0, known)]
    assert len(whole.content) == len(known()[shown[0]])
    middle = len(whole.content) // 2
    part = client.get(video_url, headers={"Range": f"bytes={middle}-{middle + 99}"})
    return [*shown, which_video(part, middle, known)]


@pytest.mark.django_db(transaction=True)
def test_the_live_video_plays_the_old_render_until_the_new_one_is_published(data_dir, tmp_path, redis_server):
    broker = redis_server.url(3)
    camera = make_camera(name="Quay", timezone="UTC", continuous_mode="every_capture")
    day = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    add_frames(camera, data_dir, day, 3, noisy=False)
    first = render.render_batch(continuous.request_update(camera, queue=False).pk)
    assert first.status == Status.COMPLETED, first.error_message
    share = make_share([first], slug="quay-live")
    link = share.share_batches.get()
    old_path = data_dir / first.published_path
    videos = {"old": old_path.read_bytes()}

    env = environment(data_dir, broker)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    port, queue = free_port(), f"render-live-{uuid.uuid4().hex[:8]}"
    server_log, worker_log = tmp_path / "gunicorn.log", tmp_path / "worker.log"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "timelapser.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=server_log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    # Its own queue: other test runs on this machine share the broker.
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "timelapser", "worker", "--pool", "solo", "--queues", queue,
         "--without-mingle", "--without-gossip", "--without-heartbeat", "--loglevel", "INFO",
         "--hostname", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=worker_log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    logs = [server_log, worker_log]
    base = f"http://127.0.0.1:{port}"
    page_url, video_url = f"{base}/share/quay-live", f"{base}/share/quay-live/video/{link.pk}.mp4"
    # (batch status when a visit began, video a response showed, status after that response)
    seen: list[tuple[str, str, str]] = []

    def known() -> dict[str, bytes]:
        batch = TimelapseBatch.objects.get(pk=first.pk)
        if batch.published_path != first.published_path and "new" not in videos:
            videos["new"] = (data_dir / batch.published_path).read_bytes()
        return videos

    try:
        with httpx.Client(timeout=60) as client:

            def up():
                try:
                    return client.get(page_url).status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(up, START_TIMEOUT, "gunicorn", logs)
            assert poll(client, page_url, video_url, known) == ["old", "old"]

            # New captures of the same day: the update re-encodes the day, slowly, then publishes.
            add_frames(camera, data_dir, day + timedelta(hours=1), 24, noisy=True)
            continuous.request_update(camera, queue=False)
            assert TimelapseBatch.objects.get(pk=first.pk).status == Status.PENDING
            Celery("live-test", broker=broker).send_task(
                "batches.tasks.render_batch", args=[first.pk], queue=queue
            )
            deadline = time.monotonic() + RENDER_TIMEOUT
            while time.monotonic() < deadline:
                before = TimelapseBatch.objects.get(pk=first.pk).status
                for shown in poll(client, page_url, video_url, known):
                    seen.append((before, shown, TimelapseBatch.objects.get(pk=first.pk).status))
                if [video for _, video, _ in seen[-3:]] == ["new"] * 3:
                    break
            else:
                pytest.fail(f"the update did not publish in time; seen {seen[-5:]}")
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait(timeout=30)

    shown = [video for _, video, _ in seen]
    switch = shown.index("new")
    assert shown[:switch] == ["old"] * switch and shown[switch:] == ["new"] * (len(shown) - switch)
    # Responses asked for and answered while the worker was rendering: the old video, every time.
    during = [video for before, video, after in seen if before == after == Status.PROCESSING]
    assert during and set(during) == {"old"}, f"no visit during the render: {seen}"
    done = TimelapseBatch.objects.get(pk=first.pk)
    assert done.status == Status.COMPLETED and done.published_frames == 27
    # The replaced file waits out its grace period for requests that read its path before the switch.
    assert old_path.exists() and done.retired_outputs[0]["path"] == first.published_path
