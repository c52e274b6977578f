"""Capture now, synchronously: `capture NAME [--count N]`; exit 1 with the reason on failure.

`--test` is the admin's "Test connection": one frame, not stored (optionally written to --save FILE).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from cameras.models import Camera
from captures.ingest import capture, grab_preview


class Command(BaseCommand):
    help = "Take pictures from a camera now. Exit status 0 if all succeeded, 1 otherwise."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--count", type=int, default=1)
        parser.add_argument("--test", action="store_true", help="grab one frame without storing it")
        parser.add_argument("--save", metavar="FILE", help="with --test: write the frame to FILE")

    def handle(self, *args, **options):
        try:
            self.run(options)
        except DatabaseError as exc:
            # SQLite on a full disk cannot even open ("disk I/O error"): say so, not a traceback.
            free = shutil.disk_usage(settings.DATA_DIR).free
            hint = "the data disk is full" if free == 0 else f"{free} bytes free on the data disk"
            raise CommandError(f"Could not use the database ({exc}; {hint}); nothing was stored.") from None

    def run(self, options) -> None:
        camera = Camera.objects.filter(name=options["name"]).first()
        if camera is None:
            raise CommandError(f"No camera named {options['name']!r}.")
        if options["test"]:
            self.test_connection(camera, options["save"])
            return
        failures = 0
        for _ in range(max(1, options["count"])):
            outcome = capture(camera)
            if outcome.ok:
                image = outcome.image
                self.stdout.write(
                    f"ok image {image.pk}: {image.width}x{image.height} {image.format}, "
                    f"{image.file_size_bytes} bytes, quality {image.quality_score}"
                )
            else:
                failures += 1
                self.stderr.write(f"{outcome.attempt.status}: {outcome.reason}")
        if failures:
            raise CommandError(f"{failures} of {max(1, options['count'])} capture(s) failed.", returncode=1)

    def test_connection(self, camera: Camera, save: str | None) -> None:
        picture, latency_ms, reason = grab_preview(camera)
        if picture is None:
            raise CommandError(f"No picture ({latency_ms} ms): {reason}", returncode=1)
        if save:
            Path(save).write_bytes(picture.data)
        self.stdout.write(
            f"ok {picture.width}x{picture.height} {picture.format}, {len(picture.data)} bytes "
            f"in {latency_ms} ms; not stored{f', written to {save}' if save else ''}"
        )
