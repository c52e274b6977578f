"""Load on the API's camera list: gunicorn as the Procfile ships it, 50 cameras, wrk for 30 s.

Run from the repo root:  .venv/bin/python bench/api.py
Needs: PostgreSQL at 127.0.0.1:5432 (user postgres, trust), Redis at 127.0.0.1:6379, wrk.
Sets up its own database (tl_bench_api) and data dir.
Prints api_rps, api_p99_ms, api_errors, api_queries_per_request (50 cameras) and
api_queries_per_request_5_cameras (they must be equal), plus CPU per request.

Options via environment: BENCH_DURATION (s, default 30), BENCH_CONNECTIONS (default 16),
BENCH_REDIS_URL (default redis://127.0.0.1:6379/3).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
from share_load import PG, free_port, parse_wrk, worker_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "tl_bench_api"
DURATION = int(os.environ.get("BENCH_DURATION", "30"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
PATH = "/api/v1/cameras?limit=100"

# An operator with the view permission (not a superuser: their permission check costs
# queries a superuser's does not), 5 then 50 cameras each with an image, queries counted
# through the real stack with Django's test client.
SEED = """
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from api import tokens
from cameras.models import Camera
from captures.models import Image

user = User.objects.create_user("bench", is_staff=True)
user.user_permissions.add(Permission.objects.get(codename="view_camera"))
token, raw = tokens.issue(user, "bench", "read")

def add(n):
    for i in range(n):
        camera = Camera.objects.create(name=f"cam-{Camera.objects.count():03d}", url_hash=os.urandom(32).hex())
        Image.objects.create(camera=camera, filename="x.jpg", file_path="images/x.jpg", file_size_bytes=1,
                             format="JPEG", captured_at=timezone.now())

def queries():
    client = Client(headers={"Authorization": f"Bearer {raw}"}, HTTP_HOST="127.0.0.1")
    client.get(PATH)  # the first use writes last_used_at
    with CaptureQueriesContext(connection) as captured:
        response = client.get(PATH)
    assert response.status_code == 200, response.content
    return len(captured)

add(5)
few = queries()
add(45)
print(few, queries(), raw)
"""


def recreate_database() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def main() -> int:
    wrk = shutil.which("wrk")
    if not wrk:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    data_dir = Path(tempfile.mkdtemp(prefix="tl-bench-api-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "TIMELAPSER_DATA_DIR": str(data_dir),
        "SECRET_KEY": "bench-only-" + os.urandom(24).hex(),
        "DEBUG": "false",
        "CACHE_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
        # The per-token limiter stays on (its Redis round trip is in every real request),
        # raised so the one load-generating token is not throttled.
        "TIMELAPSER_API_RATE_LIMIT": "100000000/m",
        "LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    server = None
    try:
        recreate_database()
        subprocess.run(
            [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        seed = subprocess.run(
            [python, "manage.py", "shell", "-c", f"import os\nPATH = {PATH!r}\n{SEED}"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        few, many, raw = seed.stdout.strip().splitlines()[-1].split()
        port = free_port()
        server = subprocess.Popen(
            [str(Path(python).parent / "gunicorn"), "timelapser.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}{PATH}"
        headers = {"Authorization": f"Bearer {raw}"}
        for _ in range(100):
            try:
                if httpx.get(url, headers=headers).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not come up")
        if httpx.get(url, headers=headers).json()["count"] != 50:
            raise RuntimeError("the camera list does not show 50 cameras")
        cpu_before = worker_cpu_seconds(server.pid)
        result = subprocess.run(
            [wrk, "-t", "2", "-c", str(CONNECTIONS), "-d", f"{DURATION}s", "--latency",
             "-H", f"Authorization: Bearer {raw}", url],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        figures = parse_wrk(result.stdout)
        cpu_ms = (worker_cpu_seconds(server.pid) - cpu_before) * 1000 / max(figures["requests"], 1)
        print(f"api_rps={figures['rps']:.0f}")
        print(f"api_p99_ms={figures['p99']:.1f}")
        print(f"api_errors={figures['errors']}")
        print(f"api_queries_per_request={many}")
        print(f"api_queries_per_request_5_cameras={few}")
        print(f"api_worker_cpu_ms_per_request={cpu_ms:.2f}")
        print(f"api_load_average_1m={os.getloadavg()[0]:.2f}")
        print(f"api_bench_seconds={DURATION}")
        return 0
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
