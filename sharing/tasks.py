"""Celery tasks of the sharing app: thin wrappers around its domain modules."""

from __future__ import annotations

from celery import shared_task

from sharing import periods


@shared_task(name="sharing.tasks.refresh_period_videos")
def refresh_period_videos() -> dict[str, int]:
    """Beat (operations.schedule): stale period videos are queued for a render."""
    return periods.refresh_all()
