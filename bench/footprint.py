"""Memory and process count of the embedded default (`make run`), idle and under a home install's load.

Run from the repo root:  .venv/bin/python bench/footprint.py
It runs `make run` in a fresh temporary data dir (SQLite, filesystem broker) exactly as a user
does, once to install and stop, then again to time the start (`startup_s`, to the login page's
200). It lets that idle BENCH_IDLE_SECONDS (60), then adds 20 fake cameras (1080p JPEGs from
captures/fakecamera.py on 127.0.0.1) captured every 10 s by beat's own schedule, and queues one
render of 3,000 1080p frames (300 distinct files, each used ten times), and watches 25 slots of
every camera (500 captures). Memory is of the whole process tree under `make`, sampled every
0.5 s from /proc:
    startup_s, startup_cpu_s      second start to the login page's 200, and the CPU the tree used meanwhile
    idle_rss_mb / idle_pss_mb   summed VmRSS / summed Pss (smaps_rollup) at the end of the idle time
    busy_rss_mb / busy_pss_mb   the peaks while capturing and rendering (ffmpeg included)
    processes                   processes in the tree at idle (busy_processes: the peak)
    captures_per_s, missed_slots, capture_lateness_p50_s / _p99_s (row written after its slot began)
Summed RSS counts pages shared between processes once per process (an upper bound); PSS
divides them among the processes that share them. The README reports both.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAMERAS = 20
INTERVAL = 10
SLOTS = 25  # 20 cameras x 25 slots = 500 captures
RENDER_FRAMES = 3000
DISTINCT_FRAMES = 300
IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "60"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree(root: int) -> list[int]:
    found, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            with contextlib.suppress(OSError):
                children = [int(c) for c in (task / "children").read_text().split()]
                found.extend(children)
                frontier.extend(children)
    return found


def field_kb(path: str, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def footprint(root: int) -> tuple[float, float, int]:
    """(summed RSS MB, summed PSS MB, processes) of root and all its descendants."""
    pids = tree(root)
    rss = sum(field_kb(f"/proc/{pid}/status", "VmRSS:") for pid in pids)
    pss = sum(field_kb(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in pids)
    return rss / 1024, pss / 1024, len(pids)


def role(pid: int) -> str:
    """Which of make run's processes pid is, from its command line (for the per-process figures)."""
    with contextlib.suppress(OSError):
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        parent_command = Path(f"/proc/{parent}/cmdline").read_bytes().decode(errors="replace")
        for needle, name in (
            ("ffmpeg", "ffmpeg"),
            ("launch", "launcher"),
            ("capture@", "capture_worker"),
            ("render@", "render_worker"),
            ("make", "make"),
        ):
            if needle in command:
                return name
        if "gunicorn" in command:
            return "gunicorn_worker" if "gunicorn" in parent_command else "gunicorn_master"
    return "other"


def per_role(root: int) -> dict[str, float]:
    """Summed VmRSS MB of each role in the tree."""
    sizes: dict[str, float] = {}
    for pid in tree(root):
        name = role(pid)
        sizes[name] = sizes.get(name, 0) + field_kb(f"/proc/{pid}/status", "VmRSS:") / 1024
    return sizes


class Peak:
    """Samples the tree's footprint every 0.5 s in a thread; keeps the peaks."""

    def __init__(self, root: int):
        self.root, self.rss, self.pss, self.processes = root, 0.0, 0.0, 0
        self.roles: dict[str, float] = {}
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.running:
            rss, pss, count = footprint(self.root)
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
            self.processes = max(self.processes, count)
            for name, size in per_role(self.root).items():
                self.roles[name] = max(self.roles.get(name, 0), size)
            time.sleep(0.5)

    def stop(self) -> None:
        self.running = False
        self.thread.join()


def login_ok(port: int) -> bool:
    import httpx

    with contextlib.suppress(httpx.TransportError):
        return httpx.get(f"http://127.0.0.1:{port}/admin/login/", timeout=5).status_code == 200
    return False


def start(env: dict, log: Path) -> subprocess.Popen:
    with log.open("a") as out:
        return subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(process: subprocess.Popen, port: int, log: Path, timeout: float = 300) -> float:
    """Seconds until the login page answers and both workers say ready."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        text = log.read_text()
        if login_ok(port) and text.count(" ready.") >= 2:
            return time.monotonic() - started
        if process.poll() is not None:
            raise SystemExit(f"make run exited:\n{text[-3000:]}")
        time.sleep(0.1)
    raise SystemExit(f"make run did not get ready:\n{log.read_text()[-3000:]}")


def cpu_seconds(root: int) -> float:
    """CPU of root, of its children that ended (keygen, bootstrap) and of those still running."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in tree(root):
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11 : 15 if pid == root else 13])
    return total / ticks


def login_seconds(
    process: subprocess.Popen, port: int, log: Path, timeout: float = 120
) -> tuple[float, float]:
    """Seconds until the login page answers, and the CPU seconds the tree used until then."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if login_ok(port):
            return time.monotonic() - started, cpu_seconds(process.pid)
        if process.poll() is not None:
            raise SystemExit(f"make run exited before the login page answered:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    raise SystemExit("the login page did not answer")


def stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=90)


def make_render_frames(folder: Path) -> None:
    """300 distinct 1080p JPEGs (quality 60: detail enough for x264, small on disk)."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True)
    for i in range(DISTINCT_FRAMES):
        rng = random.Random(i)
        image = Image.new("RGB", (1920, 1080), ((i * 7) % 256, 90, 160))
        draw = ImageDraw.Draw(image)
        for _ in range(300):
            x, y = rng.randrange(1920), rng.randrange(1080)
            draw.rectangle(
                [x, y, x + rng.randrange(5, 60), y + rng.randrange(5, 60)], fill=(rng.randrange(256),) * 3
            )
        out = io.BytesIO()
        image.save(out, "JPEG", quality=60)
        (folder / f"{i:05d}.jpg").write_bytes(out.getvalue())


# Run inside `manage.py shell` against the make-run's own database: the cameras, the render
# camera's 3,000 image rows, and the queued render. Prints the batch id and the cameras' ids.
SETUP = """
import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from django.conf import settings
from batches.services import render_now
from cameras.models import Camera
from cameras.services import add_camera
from captures.models import Image
ports = PORTS
ids = [add_camera(f"fp-{i}", f"http://127.0.0.1:{port}/snap.jpg", capture_interval_seconds=INTERVAL).pk
       for i, port in enumerate(ports)]
render_camera = Camera.objects.create(name="fp-render", url_hash=hashlib.sha256(b"fp-render").hexdigest(),
                                      enabled=False, day_counter_enabled=True,
                                      day_counter_start_date=datetime(2026, 1, 1).date())
files = sorted(Path(settings.DATA_DIR, "images", "bench-frames").glob("*.jpg"))
start = datetime(2026, 1, 1, 6, tzinfo=timezone.utc)
rows = []
for n in range(RENDER_FRAMES):
    path = files[n % len(files)]
    data = path.read_bytes()
    rows.append(Image(camera=render_camera, filename=path.name, file_path=str(path.relative_to(settings.DATA_DIR)),
                      file_size_bytes=len(data), file_hash=hashlib.sha256(data).hexdigest(), format="JPEG",
                      width=1920, height=1080, captured_at=start + timedelta(seconds=30 * n)))
Image.objects.bulk_create(rows, batch_size=1000)
print("batch", render_now(render_camera).pk)
print("cameras", ",".join(map(str, ids)))
"""

CAMERA_SERVERS = f"""
import time
from captures.fakecamera import FakeCamera
cameras = [FakeCamera(size=(1920, 1080), frames=3).start() for _ in range({CAMERAS})]
print(",".join(str(c.port) for c in cameras), flush=True)
time.sleep(10**6)
"""


def query(data_dir: Path, sql: str, *params) -> list[tuple]:
    import sqlite3

    with contextlib.closing(
        sqlite3.connect(f"file:{data_dir / 'timelapser.sqlite3'}?mode=ro", uri=True)
    ) as db:
        db.execute("PRAGMA busy_timeout = 20000")
        return db.execute(sql, params).fetchall()


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace(" ", "T")).replace(tzinfo=UTC)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="tl-bench-footprint-"))
    data_dir = work / "data"
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"}
    }
    # The fake cameras are on 127.0.0.1: allowed, as `make run` allows them (Makefile); the
    # setup's own `manage.py shell` below needs it too, since it does not go through make.
    env.update(
        TIMELAPSER_DATA_DIR=str(data_dir),
        BIND=f"127.0.0.1:{port}",
        PYTHONUNBUFFERED="1",
        TIMELAPSER_CAMERA_ALLOW_LOOPBACK="1",
    )
    log = work / "run.log"
    print(f"cpus={os.cpu_count()}")
    print(f"load_average_before={os.getloadavg()[0]:.1f}")

    # First run: migrate, collect static, make the admin; then stop, as after an install.
    first = start(env, log)
    print(f"first_start_s={wait_ready(first, port, log):.1f}")
    stop(first)
    # Under images/: the path guard serves and reads media from its media folders only.
    make_render_frames(data_dir / "images" / "bench-frames")

    run = start(env, log)
    cameras = None
    try:
        seconds, cpu = login_seconds(run, port, log)
        print(f"startup_s={seconds:.1f}")
        # On a shared machine the CPU it took says more than the wall-clock time.
        print(f"startup_cpu_s={cpu:.1f}")
        wait_ready(run, port, log)
        time.sleep(IDLE_SECONDS)
        rss, pss, count = footprint(run.pid)
        print(f"idle_rss_mb={rss:.0f}")
        print(f"idle_pss_mb={pss:.0f}")
        print(f"processes={count}")
        for name, size in sorted(per_role(run.pid).items()):
            print(f"idle_rss_mb_{name}={size:.0f}")
        sys.stdout.flush()

        cameras = subprocess.Popen(
            [sys.executable, "-c", CAMERA_SERVERS], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        ports = cameras.stdout.readline().strip()
        peak = Peak(run.pid)
        script = (
            SETUP.replace("PORTS", f"[{ports}]")
            .replace("INTERVAL", str(INTERVAL))
            .replace("RENDER_FRAMES", str(RENDER_FRAMES))
        )
        setup = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", script],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        if setup.returncode:
            raise SystemExit(f"the bench's setup failed:\n{setup.stderr[-3000:]}")
        out = setup.stdout
        batch_id = int(out.split("batch ")[1].split()[0])
        camera_ids = [int(i) for i in out.split("cameras ")[1].split()[0].split(",")]
        # The window: 25 whole slots, from the first slot boundary 15 s after the cameras exist
        # (beat's database scheduler notices new schedules within a few seconds).
        epoch = int(time.time()) + 15
        first_slot = datetime.fromtimestamp(epoch - epoch % INTERVAL + INTERVAL, UTC)
        last_slot = first_slot + timedelta(seconds=INTERVAL * (SLOTS - 1))
        # Wait for the last slot's captures (their own deadline is 20 s) and for the render.
        end = last_slot.timestamp() + INTERVAL + 25
        render_done = None
        while time.time() < end or render_done is None:
            if run.poll() is not None:
                raise SystemExit(f"make run exited:\n{log.read_text()[-3000:]}")
            status, started_at, completed_at, error = query(
                data_dir,
                "SELECT status, started_at, completed_at, error_message FROM timelapse_batches WHERE id = ?",
                batch_id,
            )[0]
            if status in ("completed", "failed") and render_done is None:
                render_done = status
                if status == "completed":
                    render_s = (parse_time(completed_at) - parse_time(started_at)).total_seconds()
            if time.time() > end + 1800:
                break
            time.sleep(1)
        peak.stop()

        marks = ",".join("?" * len(camera_ids))
        rows = query(
            data_dir,
            f"SELECT camera_id, capture_slot, created_at FROM images WHERE camera_id IN ({marks}) "
            "AND capture_slot >= ? AND capture_slot <= ?",
            *camera_ids,
            first_slot.strftime("%Y-%m-%d %H:%M:%S"),
            last_slot.strftime("%Y-%m-%d %H:%M:%S"),
        )
        taken = {(camera, slot) for camera, slot, _ in rows}
        lateness = sorted(
            (parse_time(created) - parse_time(slot)).total_seconds() for _, slot, created in rows
        )
        expected = len(camera_ids) * SLOTS
        window = SLOTS * INTERVAL
        print(f"busy_rss_mb={peak.rss:.0f}")
        print(f"busy_pss_mb={peak.pss:.0f}")
        print(f"busy_processes={peak.processes}")
        # Each process's own peak: they need not fall at the same moment as the tree's.
        for name, size in sorted(peak.roles.items()):
            print(f"busy_rss_mb_{name}={size:.0f}")
        print(f"captures_expected={expected}")
        print(f"captures_stored={len(taken)}")
        print(f"missed_slots={expected - len(taken)}")
        missed = {}
        for n in range(SLOTS):
            slot = (first_slot + timedelta(seconds=INTERVAL * n)).strftime("%Y-%m-%d %H:%M:%S")
            count = sum((camera, slot) not in taken for camera in camera_ids)
            if count:
                missed[n] = count
        print(f"missed_by_slot={missed}")
        print(f"captures_per_s={len(taken) / window:.2f}")
        if lateness:
            print(f"capture_lateness_p50_s={lateness[len(lateness) // 2]:.2f}")
            print(f"capture_lateness_p99_s={lateness[min(len(lateness) - 1, int(len(lateness) * 0.99))]:.2f}")
        print(f"render_status={render_done}")
        if render_done == "failed":
            print(f"render_error={error}")
            text = log.read_text()
            at = text.rfind("OperationalError")
            if at >= 0:  # the worker's traceback says which statement and why
                print("render_worker_log=" + text[max(0, at - 1500) : at + 300].replace("\n", " | "))
        if render_done == "completed":
            print(f"render_s={render_s:.1f}")
            print(f"render_fps={RENDER_FRAMES / render_s:.1f}")
        render_overlap = render_done == "completed" and parse_time(completed_at) > first_slot
        print(f"render_overlapped_captures={render_overlap}")
        print(f"load_average_after={os.getloadavg()[0]:.1f}")
    finally:
        if cameras is not None:
            cameras.kill()
            cameras.wait()
        stop(run)
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    main()
