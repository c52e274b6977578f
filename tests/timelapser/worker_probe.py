"""A probe task for the lean worker's test (test_lean_worker.py), and a beat entry sending it.

Named into the captures namespace, so CELERY_TASK_ROUTES sends it to the capture queue as
it sends a capture. Each run appends to WORKER_PROBE_FILE who sent it, the worker's name and
whether the worker has the celery command line loaded.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from celery import shared_task

from timelapser.celery import app


@shared_task(bind=True, name="captures.tasks.lean_worker_probe")
def probe(self, sender: str) -> None:
    with Path(os.environ["WORKER_PROBE_FILE"]).open("a") as out:
        cli = "cli" if "celery.bin.celery" in sys.modules or "click_repl" in sys.modules else "no-cli"
        out.write(f"{sender} {self.request.hostname} {cli}\n")


# Read by beat when its thread starts, after the worker has imported this module (--include).
app.conf.beat_schedule = {"probe": {"task": probe.name, "schedule": 1.0, "args": ["beat"]}}
