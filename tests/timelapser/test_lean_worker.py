"""`python -m timelapser.worker` (Procfile.lean's workers): celery worker without the celery CLI."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from celery.concurrency.solo import TaskPool as SoloPool
from celery.concurrency.thread import TaskPool as ThreadPool

from tests.waiting import PATIENCE, wait_until
from timelapser.celery import app
from timelapser.worker import worker_options

ROOT = Path(__file__).resolve().parents[2]


def procfile_arguments(name: str) -> list[str]:
    """The arguments Procfile.lean gives timelapser.worker for process `name`, defaults expanded."""
    [line] = [
        line for line in (ROOT / "Procfile.lean").read_text().splitlines() if line.startswith(f"{name}:")
    ]
    line = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", line)
    return line.split("python -m timelapser.worker ", 1)[1].split()


def test_the_lean_layouts_options_reach_the_worker_as_celery_worker_would_pass_them():
    capture = worker_options(procfile_arguments("worker"))
    render = worker_options(procfile_arguments("renderer"))

    assert capture["queues"] == ["capture", "maintenance"]
    assert capture["pool_cls"] is ThreadPool
    assert capture["concurrency"] == 4
    assert capture["beat_thread"] is True
    assert re.fullmatch(r"capture@\S+", capture["hostname"]) and "%h" not in capture["hostname"]
    assert capture["loglevel"] == 20  # INFO
    assert render["queues"] == ["render"]
    assert render["pool_cls"] is SoloPool
    assert render["beat_thread"] is False
    for options in (capture, render):
        assert options["without_gossip"] and options["without_mingle"] and options["without_heartbeat"]


@pytest.fixture
def broker(redis_server):
    """This run's own Redis database: no other test's worker takes the probes."""
    with redis_server.empty_database(6) as url:
        yield url


def test_the_worker_runs_beat_in_a_thread_and_consumes_what_it_and_others_send(broker, tmp_path):
    """GIVEN `python -m timelapser.worker` with the capture worker's options on Redis
    WHEN beat (its thread) sends the probe every second and the test sends it once
    THEN the worker runs both, and loaded none of the celery command line."""
    probes, log = tmp_path / "probes.txt", tmp_path / "worker.log"
    env = {
        **os.environ,
        "CELERY_BROKER_URL": broker,
        "CELERY_SKIP_CHECKS": "1",
        "TIMELAPSER_WORKER": "1",
        "TIMELAPSER_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "timelapser.settings",
        "PYTHONPATH": str(ROOT),
        "WORKER_PROBE_FILE": str(probes),
    }
    env.pop("DATABASE_URL", None)  # the probe needs no database; beat's file scheduler neither
    command = [
        *(sys.executable, "-m", "timelapser.worker", "--without-gossip", "--without-mingle"),
        *("--without-heartbeat", "--queues", "capture,maintenance", "--pool", "threads"),
        *("--concurrency", "2", "--beat-thread", "--hostname", "lean-probe@%h", "--loglevel", "INFO"),
        # The file scheduler (in the cwd, tmp_path) and the schedule worker_probe sets.
        *("--scheduler", "celery.beat:PersistentScheduler", "--include", "tests.timelapser.worker_probe"),
    ]
    with log.open("wb") as out:
        worker = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until(
            lambda: worker.poll() is not None or b" ready." in log.read_bytes(), "the worker", log.read_text
        )
        assert worker.poll() is None, log.read_text()
        with app.connection_for_write(broker) as connection:
            app.send_task("captures.tasks.lean_worker_probe", args=["test"], connection=connection)

        def senders() -> set[str]:
            return {line.split()[0] for line in probes.read_text().splitlines()} if probes.exists() else set()

        wait_until(lambda: senders() >= {"beat", "test"}, "both probes to run", log.read_text)
        assert all(
            re.fullmatch(r"\w+ lean-probe@\S+ no-cli", line) for line in probes.read_text().splitlines()
        )
        assert "beat: Starting..." in log.read_text()
        assert worker.poll() is None, log.read_text()

        # A warm shutdown on SIGTERM, as the launcher stops it.
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(timeout=PATIENCE) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
