"""Probe tasks for the queue-routing test, named into the captures and batches namespaces.

They live here, not in those apps, so the test proves CELERY_TASK_ROUTES sends
anything named `captures.*` to the capture workers and `batches.*` to the render
workers. Each writes the name of the worker that ran it.
"""

from __future__ import annotations

from pathlib import Path

from celery import shared_task


def _record(task, path: str) -> None:
    Path(path).write_text(task.request.hostname or "")


@shared_task(bind=True, name="captures.tasks.routing_probe")
def capture_probe(self, path: str) -> None:
    _record(self, path)


@shared_task(bind=True, name="batches.tasks.routing_probe")
def render_probe(self, path: str) -> None:
    _record(self, path)
