"""Fill empty capture slots from a Protect console's recordings: `backfill CAMERA --from DATE --to DATE`."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError

from cameras.models import Camera
from captures import backfill_runs
from captures.models import BackfillRun


def parse_when(text: str, tz_name: str, end: bool) -> datetime:
    """YYYY-MM-DD (the whole day, in the camera's time zone) or YYYY-MM-DDTHH:MM."""
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").date()
            moment = datetime.combine(day + timedelta(days=1) if end else day, time())
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM).") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(tz_name))
    return moment


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
        start = parse_when(options["start"], camera.timezone, end=False)
        end = parse_when(options["end"], camera.timezone, end=True)
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
