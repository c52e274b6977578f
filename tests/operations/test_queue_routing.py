"""Queue routing for real: a Redis broker, a capture worker and a render worker in their own processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.waiting import PATIENCE, wait_until
from timelapser.celery import app

ROOT = Path(__file__).resolve().parents[2]


def start_worker(queue: str, broker_url: str, tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"{queue}-worker.log"
    env = {
        **os.environ,
        "CELERY_BROKER_URL": broker_url,
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
        "tests.operations.routing_tasks",
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


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def broker(redis_server):
    """This run's own Redis: no other suite's worker can take a probe, no other FLUSHDB drop one."""
    with redis_server.empty_database(5) as url:
        yield url


@pytest.fixture
def workers(broker, tmp_path):
    started = [start_worker("capture", broker, tmp_path), start_worker("render", broker, tmp_path)]
    try:
        for process, log in started:
            wait_until(
                lambda log=log, process=process: process.poll() is not None or b" ready." in log.read_bytes(),
                f"worker {log.name} to start",
                log.read_text,
            )
            assert process.poll() is None, log.read_text()
        yield started
    finally:
        for process, _ in started:
            stop(process)
            assert process.poll() is not None


def test_a_capture_and_a_render_each_land_on_their_own_worker(broker, workers, tmp_path):
    capture_out, render_out = tmp_path / "capture.out", tmp_path / "render.out"

    # The project's own Celery app and router, publishing to Redis.
    with app.connection_for_write(broker) as connection:
        app.send_task("captures.tasks.routing_probe", args=[str(capture_out)], connection=connection)
        app.send_task("batches.tasks.routing_probe", args=[str(render_out)], connection=connection)

    wait_until(
        lambda: capture_out.exists() and render_out.exists(),
        "both probes to run",
        lambda: "\n".join(log.read_text() for _, log in workers),
    )
    assert capture_out.read_text().startswith("capture-probe@")
    assert render_out.read_text().startswith("render-probe@")
    for process, log in workers:
        assert process.poll() is None, log.read_text()
