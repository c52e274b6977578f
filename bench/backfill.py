"""Gap filling throughput: `manage.py backfill`'s service against the fake Protect console over HTTPS.

Run from the repo root:  .venv/bin/python bench/backfill.py [--interval 600] [--rate 4]
A throwaway SQLite database and data dir; one day of empty slots at --interval seconds, filled at
TIMELAPSER_CAPTURE_PROTECT_BACKFILL_RATE=--rate. Prints:
    backfill_slots=...  backfill_seconds=...  backfill_slots_per_s=...  backfill_progress_writes=...
The pace should be the rate: the bench says whether the per-slot work (request, store, row) keeps up.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interval", type=int, default=600)
    parser.add_argument("--rate", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tl-bench-backfill-"))
    from cryptography.fernet import Fernet

    os.environ.update(
        DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}",
        TIMELAPSER_DATA_DIR=str(work),
        SECRET_KEY="bench-only-" + "x" * 50,
        TIMELAPSER_SECRETS_KEY=Fernet.generate_key().decode(),
        TIMELAPSER_CAMERA_ALLOW_LOOPBACK="1",
        TIMELAPSER_CAPTURE_PROTECT_BACKFILL_RATE=str(args.rate),
        DJANGO_SETTINGS_MODULE="timelapser.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from datetime import UTC, datetime, timedelta

    from django.core.management import call_command

    from cameras.models import Camera
    from cameras.services import save_console
    from captures import backfill_runs, discovery, protect
    from captures.fakecamera import self_signed_cert
    from captures.fakeprotect import LOCAL_USER, FakeProtectConsole
    from captures.models import BackfillRun

    call_command("migrate", verbosity=0)
    with FakeProtectConsole(api_key="bench-key", tls=self_signed_cert(work)) as console:
        pin = protect.certificate_fingerprint(console.address())
        saved, _ = save_console(
            console.address(),
            api_key="bench-key",
            fingerprint=pin,
            username=LOCAL_USER[0],
            password=LOCAL_USER[1],
        )
        discovery.add_cameras(saved, [console.camera_ids[0]])
        camera = Camera.objects.get()
        camera.capture_interval_seconds, camera.timezone = args.interval, "UTC"
        camera.save()
        day = datetime(2026, 11, 1, tzinfo=UTC)
        run = BackfillRun.objects.create(camera=camera, range_start=day, range_end=day + timedelta(days=1))
        writes = []
        started = time.monotonic()
        run = backfill_runs.execute(run, progress=writes.append)
        seconds = time.monotonic() - started
    assert run.state == "done", run.error
    print(f"backfill_slots={run.slots_filled}")
    print(f"backfill_seconds={seconds:.1f}")
    print(f"backfill_slots_per_s={run.slots_filled / seconds:.2f}")
    print(f"backfill_progress_writes={len(writes)}")


if __name__ == "__main__":
    main()
