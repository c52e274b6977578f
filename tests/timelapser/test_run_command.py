"""`make run` brings up web, workers and beat on SQLite with the serverless broker."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import httpx

from tests.system import need_command
from tests.waiting import PATIENCE, wait_until

REPO = Path(__file__).resolve().parents[2]


def running(pid: int) -> bool:
    """Alive, and not a zombie waiting for a parent to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


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
    pages = []

    def everything_started() -> bool:
        output = log_path.read_text()
        assert process.poll() is None, output
        if not pages:
            with contextlib.suppress(httpx.TransportError):
                pages.append(httpx.get(f"http://127.0.0.1:{port}/admin/login/", timeout=30))  # then again
        patterns = (r"capture@\S+ ready\.", r"capture2@\S+ ready\.", r"render@\S+ ready\.", "beat: Starting")
        return bool(pages) and all(re.search(pattern, output) for pattern in patterns)

    try:
        wait_until(everything_started, "web, workers and beat to start", log_path.read_text)
        output = log_path.read_text()
        login_page = pages[0]
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
        process.wait(timeout=PATIENCE)

    # Ctrl-C leaves nothing running (honcho may return before the last child is reaped).
    wait_until(lambda: not [pid for pid in pids if running(pid)], "every process to exit", log_path.read_text)
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0
    assert (tmp_path / "data" / "secrets_key").stat().st_mode & 0o077 == 0
