"""`manage.py status`: the dashboard as text, for a shell or a cron mail (exit 1 if a camera is failing)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from common.sqlite_snapshot import read_only_snapshot
from operations.dashboard import Status, dashboard_context


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "never"


class Command(BaseCommand):
    help = "Print each camera's status, recent renders and shares expiring soon; exit 1 if any camera is failing."

    def handle(self, *args, **options):
        try:
            context = dashboard_context()
        except OperationalError as exc:
            if connection.vendor != "sqlite":
                raise CommandError(f"Cannot read the database: {exc}.") from None
            # A full disk keeps SQLite from opening for writing; reading needs no room.
            self.stderr.write(
                f"The database cannot be opened for writing ({exc}; is the data disk full?). "
                "Showing a read-only snapshot."
            )
            with read_only_snapshot():
                context = dashboard_context()
        for card in context["cards"]:
            self.stdout.write(
                f"{card.camera.name}: {card.status_label}; last capture {_when(card.last_captured_at)}, "
                f"{card.camera.connection_failures} failure(s) in a row, {card.images_today} image(s) today, "
                f"{filesizeformat(card.disk_bytes)}, next capture {_when(card.next_capture_at)}"
            )
        for batch in context["batches"]:
            self.stdout.write(
                f"batch {batch.pk} {batch.batch_type} ({batch.camera.name}): {batch.status} "
                f"{batch.progress_percent}%"
            )
        for share in context["expiring_shares"]:
            self.stdout.write(f"share {share.title!r} expires {_when(share.expires_at)}")
        failing = context["status_counts"][Status.FAILING]
        if failing:
            raise CommandError(f"{failing} camera(s) failing.", returncode=1)
