"""`make run` brings up web, workers and beat on SQLite with the serverless broker."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.system import need_command

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_run_serves_the_admin_and_starts_worker_and_beat(tmp_path):
    need_command("make", "make")
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"}
    }
    env.update(
        TIMELAPSER_DATA_DIR=str(tmp_path / "data"),
        BIND=f"127.0.0.1:{port}",
        DJANGO_SUPERUSER_PASSWORD="a-long-test-password",
        PYTHONUNBUFFERED="1",
    )
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        login_page, output = None, ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            output = log_path.read_text()
            if login_page is None:
                with contextlib.suppress(httpx.TransportError):
                    login_page = httpx.get(f"http://127.0.0.1:{port}/admin/login/", timeout=2)
            started = all(
                re.search(pattern, output)
                for pattern in (
                    r"capture@\S+ ready\.",
                    r"capture2@\S+ ready\.",
                    r"render@\S+ ready\.",
                    "beat: Starting",
                )
            )
            if login_page is not None and started:
                break
            assert process.poll() is None, output
            time.sleep(0.5)
        assert login_page is not None and login_page.status_code == 200, output
        assert b"Timelapser" in login_page.content
        assert re.search(r"capture@\S+ ready\.", output), output
        assert re.search(r"capture2@\S+ ready\.", output), output
        assert re.search(r"render@\S+ ready\.", output), output
        assert "beat: Starting" in output
        assert "Created admin user 'admin'" in output
        assert "a-long-test-password" not in output
        assert "manage.py demo" in output  # the hint while no camera exists

        pids = [int(pid) for pid in re.findall(r"started \(pid=(\d+)\)", output)]
        assert len(pids) == 5, output  # web, two capture workers, renderer, beat
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)

    # Ctrl-C leaves nothing running.
    time.sleep(1)
    still_running = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            still_running.append(pid)
        except ProcessLookupError:
            pass
    assert not still_running
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0
    assert (tmp_path / "data" / "secrets_key").stat().st_mode & 0o077 == 0
