"""`make run` brings up the lean layout (Procfile.lean) on SQLite with the serverless broker."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw

from captures.fakecamera import FakeCamera
from tests.system import need_command

REPO = Path(__file__).resolve().parents[2]
# Queues a render of all the camera's images, as the camera page's "Render now" does.
RENDER_NOW = (
    "from batches.services import render_now; from cameras.models import Camera; "
    "print(render_now(Camera.objects.get(name='lean-cam')).pk)"
)
READY = (r"capture@\S+ ready\.", r"render@\S+ ready\.", "beat: Starting")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_tree(root: int) -> dict[int, str]:
    """pid -> command line of every descendant of root, from /proc."""
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            with contextlib.suppress(OSError):
                for child in map(int, (task / "children").read_text().split()):
                    with contextlib.suppress(OSError):
                        found[child] = (
                            Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                        )
                    frontier.append(child)
    return found


def write_frames(folder: Path, count: int) -> None:
    """720p JPEGs with detail, so that a render of them takes a while at a slow x264 preset."""
    folder.mkdir(parents=True)
    for i in range(count):
        image = Image.linear_gradient("L").resize((1280, 720)).convert("RGB")
        draw = ImageDraw.Draw(image)
        for x in range(0, 1280, 24):
            draw.line([x + i * 5, 0, x, 720], fill=(255, (x * 7 + i * 13) % 256, 40), width=3)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90)
        (folder / f"frame_{i:03d}.jpg").write_bytes(out.getvalue())
        os.utime(folder / f"frame_{i:03d}.jpg", (1_700_000_000 + 60 * i,) * 2)


def query(data_dir: Path, sql: str, *params) -> list[tuple]:
    with contextlib.closing(
        sqlite3.connect(f"file:{data_dir / 'timelapser.sqlite3'}?mode=ro", uri=True)
    ) as db:
        db.execute("PRAGMA busy_timeout = 20000")
        return db.execute(sql, params).fetchall()


@pytest.mark.timeout(900)
def test_make_run_starts_the_lean_layout_and_serves_while_it_captures_and_renders(tmp_path):
    """GIVEN a fresh data dir WHEN `make run` starts THEN three processes (web, a capture worker
    with beat inside it, a render worker) run under one launcher, beat sends captures that the
    capture worker takes, the render worker renders, the web answers during that render, and
    Ctrl-C leaves nothing behind."""
    need_command("make", "make")
    port = free_port()
    data_dir = tmp_path / "data"
    env = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"}
    }
    env.update(
        TIMELAPSER_DATA_DIR=str(data_dir),
        BIND=f"127.0.0.1:{port}",
        DJANGO_SUPERUSER_PASSWORD="a-long-test-password",
        PYTHONUNBUFFERED="1",
        # A slow preset makes the render last long enough to be seen running.
        TIMELAPSER_RENDER_PRESET="veryslow",
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
    camera = FakeCamera().start()
    pids: list[int] = []
    try:
        login_page, output = None, ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            output = log_path.read_text()
            if login_page is None:
                with contextlib.suppress(httpx.TransportError):
                    login_page = httpx.get(f"http://127.0.0.1:{port}/admin/login/", timeout=2)
            if login_page is not None and all(re.search(pattern, output) for pattern in READY):
                break
            assert process.poll() is None, output
            time.sleep(0.5)
        assert login_page is not None and login_page.status_code == 200, output
        assert b"Timelapser" in login_page.content
        for pattern in READY:
            assert re.search(pattern, output), output
        assert "Created admin user 'admin'" in output
        assert "a-long-test-password" not in output
        assert "manage.py demo" in output  # the hint while no camera exists

        # The lean layout: the launcher, gunicorn's master and its one worker, one capture
        # worker that also consumes maintenance and runs beat, one render worker; no shells,
        # no honcho, no separate beat process.
        pids = [int(pid) for pid in re.findall(r"started \(pid=(\d+)\)", output)]
        assert len(pids) == 3, output
        tree = process_tree(process.pid)
        assert len(tree) == 5, tree
        commands = list(tree.values())
        assert sum("launch.py Procfile.lean" in command for command in commands) == 1, tree
        assert sum("gunicorn" in command for command in commands) == 2, tree
        [capture_worker] = [c for c in commands if "--queues capture,maintenance" in c]
        assert "--beat-thread" in capture_worker
        [render_worker] = [c for c in commands if "--queues render" in c]
        assert "--pool solo" in render_worker
        assert not any(re.search(r"\bhoncho\b|^/bin/sh |\bcelery \S+ beat\b", c) for c in commands), tree

        manage = [sys.executable, "manage.py"]
        subprocess.run(
            [*manage, "addcamera", "lean-cam", camera.url(), "--interval", "10"],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
        )
        # Beat (a thread of the capture worker) sends the camera's captures; the capture worker takes them.
        deadline = time.monotonic() + 90
        while not query(data_dir, "SELECT count(*) FROM images")[0][0] and time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()
            time.sleep(0.5)
        assert query(data_dir, "SELECT count(*) FROM images")[0][0] >= 1, log_path.read_text()

        write_frames(tmp_path / "frames", 30)
        subprocess.run(
            [*manage, "importimages", "lean-cam", str(tmp_path / "frames")],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
        )
        queued = subprocess.run(
            [*manage, "shell", "-c", RENDER_NOW],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        batch_id = int(queued.stdout.split()[-1])

        def status() -> str:
            return query(data_dir, "SELECT status FROM timelapse_batches WHERE id = ?", batch_id)[0][0]

        # The web answers while the render worker renders: a login page fetched between two
        # reads that both say "processing".
        answered_during_render = False
        deadline = time.monotonic() + 300
        while status() in ("pending", "processing") and time.monotonic() < deadline:
            before = status()
            page = httpx.get(f"http://127.0.0.1:{port}/admin/login/", timeout=30)
            if before == "processing" and page.status_code == 200 and status() == "processing":
                answered_during_render = True
            time.sleep(0.1)
        assert status() == "completed", log_path.read_text()
        assert answered_during_render, "the render ended before the web was seen answering during it"
    finally:
        camera.stop()
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
    assert (data_dir / "secret_key").stat().st_mode & 0o077 == 0
    assert (data_dir / "secrets_key").stat().st_mode & 0o077 == 0
