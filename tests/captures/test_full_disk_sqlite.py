"""SQLite on a full disk: a capture fails with a clear error, the database stays intact, `status` still reads.

The whole app runs as `manage.py` processes with the data dir (images and the
SQLite file) on a real tmpfs that is then filled to the last byte.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from captures.fakecamera import FakeCamera

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True
    )
    if result.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root) to simulate a full disk")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path) -> Path:
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 65536):
            pass
    except OSError:
        pass
    try:
        while os.write(fd, b"\0"):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_capture_on_a_full_disk_fails_clearly_and_status_still_reads(small_disk):
    with FakeCamera(drip_delay=0) as camera:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{small_disk / 'timelapser.sqlite3'}",
            "TIMELAPSER_DATA_DIR": str(small_disk),
            "SECRET_KEY": "full-disk-test-" + "x" * 40,
            "CELERY_BROKER_URL": "memory://",
            "TL_FULL_DISK_URL": camera.url(),
        }

        def manage(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )

        assert manage("migrate", "--noinput").returncode == 0
        made = manage(
            "shell",
            "-c",
            "from cameras.models import Camera; from cameras.secrets import url_hash; import os; "
            "Camera.objects.create(name='yard', url_hash=url_hash(os.environ['TL_FULL_DISK_URL']), "
            "encryption_key_ref='env:TL_FULL_DISK_URL')",
        )
        assert made.returncode == 0, made.stderr
        assert manage("capture", "yard").returncode == 0

        filler = fill(small_disk)
        full = manage("capture", "yard")

        assert full.returncode == 1
        assert "Traceback" not in full.stderr, full.stderr
        assert "No space left on device" in full.stderr or "disk is full" in full.stderr, full.stderr
        status = manage("status")
        assert "Traceback" not in status.stderr, status.stderr
        assert "read-only snapshot" in status.stderr
        assert status.stdout.startswith("yard: ") and "1 image(s) today" in status.stdout, status.stdout

        # Read-only and immutable: a normal open would need room for its -shm file. No
        # process holds the database now, so its last commits are in the main file.
        database = sqlite3.connect(f"file:{small_disk / 'timelapser.sqlite3'}?mode=ro&immutable=1", uri=True)
        try:
            assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            # The first picture is still there, row and file; the failed one left neither.
            paths = [row[0] for row in database.execute("SELECT file_path FROM images")]
        finally:
            database.close()
        assert len(paths) == 1 and (small_disk / paths[0]).is_file()
        assert [p.name for p in (small_disk / "images").rglob("*") if p.is_file()] == [Path(paths[0]).name]

        # Room again: the app carries on where it was.
        filler.unlink()
        assert manage("capture", "yard").returncode == 0
