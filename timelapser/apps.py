from __future__ import annotations

from pathlib import Path

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def restrict_sqlite_file(sender, connection, **kwargs) -> None:
    """Keep the SQLite file readable by its owner only (seed: database file permissions)."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict["NAME"])
    if name and name != ":memory:" and not name.startswith("file:"):
        path = Path(name)
        for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if candidate.exists() and candidate.stat().st_mode & 0o077:
                candidate.chmod(0o600)


class TimelapserConfig(AppConfig):
    name = "timelapser"
    verbose_name = "Timelapser"

    def ready(self) -> None:
        connection_created.connect(restrict_sqlite_file, dispatch_uid="timelapser-sqlite-mode")
