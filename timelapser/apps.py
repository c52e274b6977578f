from __future__ import annotations

from pathlib import Path

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


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

        from captures.signals import capture_failed, image_captured
        from timelapser import notify

        capture_failed.connect(notify.on_capture_failed, dispatch_uid="timelapser-notify-down")
        image_captured.connect(notify.on_image_captured, dispatch_uid="timelapser-notify-recovered")
        post_migrate.connect(
            notify.ensure_beat_schedule, sender=self, dispatch_uid="timelapser-beat-schedule"
        )
