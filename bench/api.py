"""Load on the API's camera list: gunicorn as the Procfile ships it, 50 cameras, wrk for 30 s.

Run from the repo root:  .venv/bin/python bench/api.py
Needs: PostgreSQL at 127.0.0.1:5432 (user postgres, trust), Redis at 127.0.0.1:6379, wrk.
Sets up its own database (tl_bench_api) and data dir.
Prints api_rps, api_p99_ms, api_errors, api_queries_per_request (50 cameras) and
api_queries_per_request_5_cameras (they must be equal), plus CPU per request.

Options via environment: BENCH_DURATION (s, default 30), BENCH_CONNECTIONS (default 16),
BENCH_REDIS_URL (default redis://127.0.0.1:6379/3), BENCH_WORKER_CLASS (default gthread, as in the
Procfile; or sync), BENCH_THREADS (gthread only, default 4 as in the Procfile).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import wrkload

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


def main() -> int:
    wrk = shutil.which("wrk")
    if not wrk:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    data_dir = Path(tempfile.mkdtemp(prefix="tl-bench-api-"))
    env = wrkload.bench_env(
        DB_NAME,
        data_dir,
        # The per-token limiter stays on (its Redis round trip is in every real request),
        # raised so the one load-generating token is not throttled.
        TIMELAPSER_API_RATE_LIMIT="100000000/m",
    )
    python = sys.executable
    server = None
    try:
        wrkload.recreate_database(DB_NAME)
        subprocess.run(
            [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=wrkload.ROOT, env=env, check=True
        )
        seed = subprocess.run(
            [python, "manage.py", "shell", "-c", f"import os\nPATH = {PATH!r}\n{SEED}"],
            cwd=wrkload.ROOT, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        few, many, raw = seed.stdout.strip().splitlines()[-1].split()
        port = wrkload.free_port()
        server = wrkload.start_gunicorn(python, env, port, *wrkload.worker_args())
        url = f"http://127.0.0.1:{port}{PATH}"
        headers = {"Authorization": f"Bearer {raw}"}
        wrkload.wait_until_up(url, headers)
        if httpx.get(url, headers=headers).json()["count"] != 50:
            raise RuntimeError("the camera list does not show 50 cameras")
        figures = wrkload.run_wrk(
            wrk, url, server, DB_NAME, DURATION, CONNECTIONS, headers=[f"Authorization: Bearer {raw}"]
        )
        wrkload.print_figures("api", figures, DURATION, CONNECTIONS)
        print(f"api_queries_per_request={many}")
        print(f"api_queries_per_request_5_cameras={few}")
        print(f"api_worker_class={wrkload.worker_class()}")
        return 0
    finally:
        wrkload.stop(server, data_dir)


if __name__ == "__main__":
    sys.exit(main())
