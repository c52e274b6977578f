"""A real Celery worker killed with SIGKILL mid-render: the batch is found, requeued and finished."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings as django_settings
from django.db import connection

from batches import lifecycle
from batches.models import TimelapseBatch
from batches.selection import Selection, create_batch
from tests.waiting import PATIENCE, wait_until

ROOT = Path(__file__).resolve().parents[2]
Status = TimelapseBatch.Status


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_worker(broker_url: str, data_dir: Path, log: Path, preset: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "TIMELAPSER_DATA_DIR": str(data_dir),
        "SECRET_KEY": django_settings.SECRET_KEY,
        "TIMELAPSER_RENDER_PRESET": preset,
        "TIMELAPSER_RENDER_HEARTBEAT_SECONDS": "0.2",
    }
    command = [sys.executable, "-m", "celery", "-A", "timelapser", "worker", "--pool", "solo",
               "--queues", "render", "--without-mingle", "--without-gossip", "--without-heartbeat",
               "--loglevel", "INFO", "--hostname", f"render-test-{uuid.uuid4().hex[:8]}@%h"]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def send_render(broker_url: str, batch_id: int) -> None:
    sender = Celery("render-test", broker=broker_url)
    sender.send_task("batches.tasks.render_batch", args=[batch_id], queue="render")
    sender.close()


def wait_for(predicate, what: str, log: Path):
    return wait_until(predicate, what, lambda: f"worker log:\n{log.read_text()[-3000:]}")


def ffmpeg_children_in(data_dir: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "cwd").readlink().is_relative_to(data_dir) and b"ffmpeg" in (
                proc / "cmdline"
            ).read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.fixture
def broker(redis_server) -> str:
    """This run's own Redis: another suite's render worker must not take our render_batch."""
    redis_server.client(2).flushdb()
    return redis_server.url(2)


def kill_mid_render(broker: str, camera, add_frame, day_start, data_dir, log: Path) -> TimelapseBatch:
    """Start a slow render on a real worker, SIGKILL the worker mid-way; the killed batch."""
    noise = lambda image: image.frombytes(os.urandom(640 * 480 * 3))  # noqa: E731
    for i in range(120):
        add_frame(camera, day_start + timedelta(minutes=i), size=(640, 480), draw=noise)
    batch = create_batch(camera, Selection())

    worker = start_worker(broker, data_dir, log, preset="veryslow")
    try:
        send_render(broker, batch.pk)
        wait_for(
            lambda: TimelapseBatch.objects.filter(pk=batch.pk, status=Status.PROCESSING, frames_done__gt=0).exists(),
            "progress from the worker", log,
        )  # fmt: skip
        running = TimelapseBatch.objects.get(pk=batch.pk)
        assert 0 < running.frames_done < running.total_frames
        assert ffmpeg_children_in(data_dir), "ffmpeg is rendering"

        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=PATIENCE)
    finally:
        if worker.poll() is None:
            worker.kill()

    # The encoder dies with its worker (PR_SET_PDEATHSIG), leaving nothing half-written under the name.
    wait_for(lambda: not ffmpeg_children_in(data_dir), "ffmpeg to exit", log)
    killed = TimelapseBatch.objects.get(pk=batch.pk)
    assert killed.status == Status.PROCESSING and killed.attempts == 1
    assert not list((data_dir / "videos").rglob("*.mp4"))
    # What the killed encoder had written so far is still there, under its .part name.
    assert list((data_dir / "videos").rglob(".*.part")), "the killed render left its .part file"
    return killed


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_render_is_requeued_and_the_batch_finishes(
    camera, add_frame, day_start, data_dir, settings, tmp_path, broker
):
    log = tmp_path / "worker.log"
    batch = kill_mid_render(broker, camera, add_frame, day_start, data_dir, log)

    settings.TIMELAPSER_RENDER_STALE_SECONDS = 1
    time.sleep(1.5)  # a lower bound only: the dead worker's last heartbeat is now older than 1 s
    assert lifecycle.recover_stale() == {"requeued": [batch.pk], "failed": []}
    assert TimelapseBatch.objects.get(pk=batch.pk).status == Status.PENDING
    # Recovery tidies the dead attempt's half-written file at once, not only when the next one starts.
    assert not list((data_dir / "videos").rglob(".*part"))

    worker = start_worker(broker, data_dir, log, preset="ultrafast")
    try:
        send_render(broker, batch.pk)
        wait_for(
            lambda: TimelapseBatch.objects.filter(pk=batch.pk, status=Status.COMPLETED).exists(),
            "the second attempt to finish", log,
        )  # fmt: skip
    finally:
        worker.terminate()
        worker.wait(timeout=PATIENCE)
    done = TimelapseBatch.objects.get(pk=batch.pk)
    assert done.attempts == 2 and done.total_frames == 120
    assert (data_dir / done.output_path).is_file()
    assert not list((data_dir / "videos").rglob(".*part"))


@pytest.mark.django_db(transaction=True)
def test_worker_killed_on_its_last_attempt_fails_the_batch_and_leaves_no_part_file(
    camera, add_frame, day_start, data_dir, settings, tmp_path, broker
):
    batch = kill_mid_render(broker, camera, add_frame, day_start, data_dir, tmp_path / "worker.log")

    settings.TIMELAPSER_RENDER_STALE_SECONDS = 1
    settings.TIMELAPSER_RENDER_MAX_ATTEMPTS = 1
    time.sleep(1.5)  # a lower bound, as above
    assert lifecycle.recover_stale() == {"requeued": [], "failed": [batch.pk]}
    failed = TimelapseBatch.objects.get(pk=batch.pk)
    assert failed.status == Status.FAILED and "stopped responding" in failed.error_message
    assert not list(data_dir.rglob("*.part"))
