"""The database-specific migrations are reversible, and SQLite files stay private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import VENDOR


def trigger_names() -> set[str]:
    with connection.cursor() as cursor:
        if VENDOR == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_database_sql_migrations_undo_and_redo_cleanly():
    before = trigger_names()
    assert {"calculate_day_number", "update_cameras_timestamp"} <= before

    call_command("migrate", "sharing", "0001", verbosity=0)
    call_command("migrate", "batches", "0002", verbosity=0)
    call_command("migrate", "captures", "0001", verbosity=0)
    call_command("migrate", "cameras", "0001", verbosity=0)
    undone = trigger_names()
    call_command("migrate", verbosity=0)

    assert "calculate_day_number" not in undone
    assert "update_cameras_timestamp" not in undone
    assert trigger_names() == before


@pytest.mark.django_db
def test_sqlite_database_file_is_readable_by_its_owner_only():
    if VENDOR != "sqlite":
        assert connection.vendor == "postgresql"  # the server owns its files
        return
    path = Path(connection.settings_dict["NAME"])
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
