"""A lean worker (TIMELAPSER_WORKER=1, Procfile.lean) loads its tasks without the web's stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What a Celery worker loads: Django, then every app's tasks; then a URL reversed as a task might.
# cryptography (~6 MB) waits until a secret is read or a key derived (cameras/secrets.py).
LOAD = """
import sys
import django
django.setup()
from timelapser.celery import app
app.loader.import_default_modules()
print(sorted(m for m in ("ninja", "pydantic", "numpy", "batches.admin", "cryptography") if m in sys.modules))
from django.urls import reverse
print(reverse("admin:cameras_camera_changelist"))
"""


def load_as_worker(tmp_path: Path, worker: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        SECRET_KEY="test",
        TIMELAPSER_DATA_DIR=str(tmp_path),
        TIMELAPSER_WORKER=worker,
        CELERY_SKIP_CHECKS="1",
        DJANGO_SETTINGS_MODULE="timelapser.settings",
    )
    result = subprocess.run(
        [sys.executable, "-c", LOAD], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()


def test_a_worker_loads_neither_the_api_stack_nor_the_admin_modules_nor_cryptography(tmp_path):
    loaded, admin_url = load_as_worker(tmp_path, "1")

    assert loaded == "[]"
    # The admin still answers a reverse() from a task: urls.py runs its autodiscovery.
    assert admin_url == "/admin/cameras/camera/"


def test_the_web_process_keeps_the_admin_and_the_api_app(tmp_path):
    loaded, _ = load_as_worker(tmp_path, "0")

    assert "ninja" in loaded
    assert "batches.admin" in loaded
