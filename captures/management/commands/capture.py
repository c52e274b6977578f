"""Capture now, synchronously: `capture NAME [--count N]`; exit 1 with the reason on failure."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cameras.models import Camera
from captures.ingest import capture


class Command(BaseCommand):
    help = "Take pictures from a camera now. Exit status 0 if all succeeded, 1 otherwise."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--count", type=int, default=1)

    def handle(self, *args, **options):
        camera = Camera.objects.filter(name=options["name"]).first()
        if camera is None:
            raise CommandError(f"No camera named {options['name']!r}.")
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
