"""The database goes away in the middle of a capture: the picture waits for it, or is dropped with a clear log line.

A real PostgreSQL behind a real TCP proxy that is stopped (the open connection
breaks, new ones are refused) and started again; a real fake camera over HTTP.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from captures import ingest
from captures.models import CaptureAttempt, Image
from tests.tcpproxy import TcpProxy

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
SLOT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def proxied_database():
    """The default connection goes through a proxy for the test (every thread's too)."""
    db = connection.settings_dict
    proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))).start()
    original = db["HOST"], db["PORT"]
    connection.close()
    db["HOST"], db["PORT"] = "127.0.0.1", str(proxy.port)
    yield proxy
    proxy.stop()
    connection.close()
    db["HOST"], db["PORT"] = original


def stored_files(data_dir) -> list:
    return (
        [p for p in (data_dir / "images").rglob("*") if p.is_file()] if (data_dir / "images").exists() else []
    )


def test_capture_during_an_outage_is_stored_once_when_the_database_answers(
    proxied_database, add, camera_server, data_dir, settings, caplog
):
    camera = add("yard", camera_server.url())
    settings.TIMELAPSER_CAPTURE_DB_WAIT_SECONDS = 60
    proxied_database.stop()
    restarted = []

    def come_back():
        restarted.append(datetime.now(UTC))
        proxied_database.start()

    back = threading.Timer(2.0, come_back)
    back.start()
    caplog.set_level(logging.WARNING, logger="captures")

    try:
        outcome = ingest.capture(camera, slot=SLOT)
    finally:
        back.join()

    assert outcome.ok and restarted
    assert "database unreachable" in caplog.text
    image = Image.objects.get()
    attempt = CaptureAttempt.objects.get()
    assert attempt.image_id == image.pk and attempt.status == "success"
    # The moment the camera was asked, not the moment the database came back.
    assert image.captured_at < restarted[0]
    assert image.capture_slot == SLOT
    assert stored_files(data_dir) == [data_dir / image.file_path]
    assert not list(data_dir.rglob("*.tmp"))


def test_capture_is_dropped_with_a_clear_log_line_when_the_database_stays_away(
    proxied_database, add, camera_server, data_dir, settings, caplog
):
    camera = add("yard", camera_server.url())
    settings.TIMELAPSER_CAPTURE_DB_WAIT_SECONDS = 1.5
    proxied_database.stop()
    caplog.set_level(logging.WARNING, logger="captures")

    outcome = ingest.capture(camera, slot=SLOT)

    assert outcome.dropped and not outcome.ok
    dropped = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(dropped) == 1
    line = dropped[0].getMessage()
    assert f"capture dropped: camera={camera.pk}" in line
    assert "did not answer for 1.5 s" in line and "no attempt row could be written" in line
    # No stray file: the picture went with its rows.
    assert stored_files(data_dir) == [] and not list(data_dir.rglob("*.tmp"))
    # Nothing half-stored turns up once the database is back.
    proxied_database.start()
    assert Image.objects.count() == 0 and CaptureAttempt.objects.count() == 0
    # The log says where the camera is by id only, never its URL.
    assert camera_server.url() not in caplog.text
