"""Import existing pictures: `importimages NAME DIR` (for people moving from other timelapse scripts)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cameras.models import Camera
from captures.importing import ImportRefused, checked_folder, import_folder


class Command(BaseCommand):
    help = "Import JPEG/PNG files from DIR (recursively); captured_at from EXIF DateTimeOriginal, else mtime."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("directory")

    def handle(self, *args, **options):
        camera = Camera.objects.filter(name=options["name"]).first()
        if camera is None:
            raise CommandError(f"No camera named {options['name']!r}.")
        try:
            folder = checked_folder(options["directory"])
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        report = import_folder(camera, folder)
        for name, reason in report.failures:
            self.stderr.write(f"failed {name}: {reason}")
        self.stdout.write(
            f"Imported {report.imported} image(s); skipped {report.skipped} already imported; "
            f"{report.failed} failed."
        )
