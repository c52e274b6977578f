"""Fixtures for retention and cleanup tests: images with real (tiny) files."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from tests.factories import make_image


def image_file(camera, captured_at: datetime, *, quality: int | None = None, content: bytes = b"jpeg"):
    """An image row and its file under DATA_DIR/images/<camera>/<YYYY>/<MM>/<DD>/."""
    image = make_image(camera, captured_at, quality_score=quality, file_size_bytes=len(content))
    relative = f"images/{camera.pk}/{captured_at:%Y/%m/%d}/{image.pk}.jpg"
    image.file_path = relative
    image.save(update_fields=["file_path"])
    path = Path(settings.DATA_DIR) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return image


@contextlib.contextmanager
def cleanup_lock_held():
    """Another "process" (a thread on its own connection) holds the one-cleanup lock meanwhile."""
    from operations.cleanup import single_run

    holding, release = threading.Event(), threading.Event()

    def hold():
        from django.db import connection

        try:
            with single_run():
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        yield
    finally:
        release.set()
        thread.join()


def file_of(image) -> Path:
    return Path(settings.DATA_DIR) / image.file_path


def days_ago(days: float, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)


@pytest.fixture
def policy_env(settings):
    """The environment's defaults, pinned so a developer's shell cannot change the tests."""
    settings.TIMELAPSER_RETENTION_DAYS = 30
    settings.TIMELAPSER_THINNING_TIERS = ""
    settings.TIMELAPSER_ATTEMPTS_RETENTION_DAYS = 90
    settings.TIMELAPSER_ORPHAN_GRACE_HOURS = 6
    return settings
