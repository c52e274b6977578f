"""`manage.py render NAME --type ...`: create a batch for a camera and render it right here."""

from __future__ import annotations

import argparse
from datetime import date, time

from django.core.management.base import BaseCommand, CommandError

from batches import continuous, render
from batches.models import TimelapseBatch
from batches.selection import Selection, SelectionError, create_batch
from cameras.models import Camera


def _time(value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a time of day (HH:MM): {value!r}") from exc


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = "Create a timelapse batch for a camera and render it synchronously; prints the batch id."

    def add_arguments(self, parser):
        parser.add_argument("name", help="camera name")
        parser.add_argument("--type", choices=TimelapseBatch.BatchType.values, default="manual")
        parser.add_argument("--from", dest="date_from", type=_date)
        parser.add_argument("--to", dest="date_to", type=_date)
        parser.add_argument("--fps", type=int, default=30)
        parser.add_argument("--target-seconds", type=float)
        parser.add_argument("--min-quality", type=int)
        parser.add_argument(
            "--best-per-day",
            type=int,
            metavar="N",
            help="the N best frames of each day, from the window --around HH:MM ± --window-hours",
        )
        parser.add_argument("--around", type=_time, help="time of day for --best-per-day (default 12:00)")
        parser.add_argument("--window-hours", type=float, default=2.0)
        parser.add_argument(
            "--deflicker",
            action=argparse.BooleanOptionalAction,
            help="even out frame-to-frame brightness (default: the camera's render settings)",
        )
        parser.add_argument(
            "--stabilize",
            action=argparse.BooleanOptionalAction,
            help="two-pass stabilization for a shaky mount (default: the camera's render settings)",
        )
        parser.add_argument(
            "--renditions",
            metavar="KINDS",
            help="comma-separated: web (<= 1080p, what shares stream), full (always), av1 "
            "(default: TIMELAPSER_RENDITIONS, web,full); all from one decode of the frames",
        )

    def handle(self, *args, name, type, date_from, date_to, fps, target_seconds, min_quality, **options):
        camera = Camera.objects.filter(name=name).first()
        if camera is None:
            raise CommandError(f"No camera named {name!r}.")
        try:
            if type == TimelapseBatch.BatchType.CONTINUOUS:
                batch = continuous.request_update(camera, queue=False)
            else:
                selection = Selection(
                    date_from=date_from,
                    date_to=date_to,
                    fps=fps,
                    target_seconds=target_seconds,
                    min_quality=min_quality,
                    deflicker=options["deflicker"],
                    stabilize=options["stabilize"],
                    best_per_day=options["best_per_day"],
                    around=options["around"],
                    window_hours=options["window_hours"],
                    renditions=options["renditions"],
                )
                batch = create_batch(camera, selection, batch_type=type)
        except SelectionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(batch.pk))
        # Rendered here, not on the queue; a worker that picks up the queued task finds it taken.
        render.render_batch(batch.pk)
        batch.refresh_from_db()
        if batch.status != TimelapseBatch.Status.COMPLETED:
            raise CommandError(f"Batch {batch.pk} {batch.status}: {batch.error_message or 'not rendered'}")
        self.stdout.write(
            f"Batch {batch.pk} completed: {batch.total_frames} frames, {len(batch.dropped_frames)} dropped, "
            f"{batch.output_path}"
        )
