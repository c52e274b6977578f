"""Fill empty capture slots from a Protect console's recordings: `backfill CAMERA --from DATE --to DATE`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cameras.models import Camera
from captures import backfill_runs
from captures.backfill_runs import parse_when
from captures.models import BackfillRun


class Command(BaseCommand):
    help = (
        "Fill the capture slots of CAMERA (id or name) that have no image from the console's recordings. "
        "Dates are in the camera's time zone; --to DATE includes that whole day. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("camera")
        parser.add_argument("--from", dest="start", required=True, metavar="DATE")
        parser.add_argument("--to", dest="end", required=True, metavar="DATE")

    def handle(self, *args, **options):
        key = options["camera"]
        camera = Camera.objects.filter(pk=int(key)).first() if key.isdigit() else None
        camera = camera or Camera.objects.filter(name=key).first()
        if camera is None:
            raise CommandError(f"No camera with id or name {key!r}.")
        try:
            start = parse_when(options["start"], camera.timezone, end=False)
            end = parse_when(options["end"], camera.timezone, end=True)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if end <= start:
            raise CommandError("--to must be after --from.")
        try:
            backfill_runs.check_range(camera, start, end)
        except backfill_runs.RunRefused as exc:
            raise CommandError(str(exc)) from None
        # The admin's service, run here instead of on the worker: the run shows in the admin too.
        run = BackfillRun.objects.create(camera=camera, range_start=start, range_end=end)
        run = backfill_runs.execute(run, progress=lambda r: self.stdout.write(f"progress {r.line()}"))
        if run.state == BackfillRun.State.FAILED:
            raise CommandError(run.error)
        self.stdout.write(
            f"done slots={run.slots_total} already_had_an_image={run.slots_skipped} "
            f"filled={run.slots_filled} no_recording={run.slots_failed} run={run.pk}"
        )
