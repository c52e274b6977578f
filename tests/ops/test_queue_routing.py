"""Queue routing for real: a Redis broker, a capture worker and a render worker in their own processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.system import need_redis
from timelapser.celery import app

REDIS_URL = os.environ.get("TIMELAPSER_OPS_REDIS_URL", "redis://127.0.0.1:6379/5")
ROOT = Path(__file__).resolve().parents[2]


def start_worker(queue: str, tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"{queue}-worker.log"
    env = {
        **os.environ,
        "CELERY_BROKER_URL": REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "timelapser.settings",
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "timelapser",
        "worker",
        "--queues",
        queue,
        "--hostname",
        f"{queue}-probe@%h",
        "--include",
        "tests.ops.routing_tasks",
        "--pool",
        "solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "INFO",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return process, log


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@pytest.fixture
def broker():
    client = need_redis(REDIS_URL)
    client.flushdb()  # DB 5 belongs to these tests: start without stale messages
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def workers(broker, tmp_path):
    started = [start_worker("capture", tmp_path), start_worker("render", tmp_path)]
    try:
        for process, log in started:
            wait_for(
                lambda log=log, process=process: process.poll() is not None or b" ready." in log.read_bytes(),
                90,
                f"worker {log.name} to start",
            )
            assert process.poll() is None, log.read_text()
        yield started
    finally:
        for process, _ in started:
            stop(process)
            assert process.poll() is not None


def test_a_capture_and_a_render_each_land_on_their_own_worker(workers, tmp_path):
    capture_out, render_out = tmp_path / "capture.out", tmp_path / "render.out"

    # The project's own Celery app and router, publishing to Redis.
    with app.connection_for_write(REDIS_URL) as connection:
        app.send_task("captures.tasks.routing_probe", args=[str(capture_out)], connection=connection)
        app.send_task("batches.tasks.routing_probe", args=[str(render_out)], connection=connection)

    wait_for(lambda: capture_out.exists() and render_out.exists(), 60, "both probes to run")
    assert capture_out.read_text().startswith("capture-probe@")
    assert render_out.read_text().startswith("render-probe@")
    for process, log in workers:
        assert process.poll() is None, log.read_text()
