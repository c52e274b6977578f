"""Import existing pictures: `importimages NAME DIR` (for people moving from other timelapse scripts)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cameras.models import Camera
from captures.ingest import import_file, imported_hashes
from captures.sources import CaptureError

SUFFIXES = {".jpg", ".jpeg", ".png"}


class Command(BaseCommand):
    help = "Import JPEG/PNG files from DIR (recursively); captured_at from EXIF DateTimeOriginal, else mtime."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("directory", type=Path)

    def handle(self, *args, **options):
        camera = Camera.objects.filter(name=options["name"]).first()
        if camera is None:
            raise CommandError(f"No camera named {options['name']!r}.")
        directory: Path = options["directory"]
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory.")
        imported = skipped = 0
        known = imported_hashes(camera)
        for path in sorted(p for p in directory.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()):
            try:
                outcome = import_file(camera, path, known)
            except CaptureError as exc:
                skipped += 1
                self.stderr.write(f"skipped {path.name}: {exc.reason}")
                continue
            if outcome is None:
                skipped += 1
                self.stderr.write(f"skipped {path.name}: already imported")
            else:
                imported += 1
        self.stdout.write(f"Imported {imported} image(s), skipped {skipped}.")
