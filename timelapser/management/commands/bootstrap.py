"""First-run setup for `make run`: key, schema, static files, an admin user."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.finders import get_finders
from django.core.management import call_command
from django.core.management.base import BaseCommand

from common.siteurl import absolute_url


class Command(BaseCommand):
    help = "Migrate, collect static files and create the first admin user (once)."

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.collect_static()
        self.stdout.write("Database migrated and static files collected.")

        self.create_first_admin()
        from cameras.models import Camera

        if not Camera.objects.exists():
            self.stdout.write(
                "No cameras yet. To see a timelapse without one, run in another terminal:\n"
                "    .venv/bin/python manage.py demo"
            )

    def collect_static(self) -> None:
        """collectstatic, unless no static source changed since the last one.

        The compressing manifest storage hashes and compresses every file again on each
        run, ~2 s of CPU: a third of a second `make run`'s start on a small box.
        """
        stamp = Path(settings.STATIC_ROOT) / ".collected"
        fingerprint = static_fingerprint()
        if stamp.is_file() and stamp.read_text() == fingerprint:
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        stamp.write_text(fingerprint)

    def create_first_admin(self) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(self.style.SUCCESS(f"Created admin user {username!r}."))
        if generated:
            # Printed once, on the first run only; it is not stored anywhere in clear.
            self.stdout.write(self.style.WARNING(f"Its password (shown only now): {password}"))
        self.stdout.write(f"Sign in at {absolute_url('/admin/')}")


def static_fingerprint() -> str:
    """A hash of every static source's path, size and mtime, and of the storage that collects them."""
    digest = hashlib.sha256(repr(settings.STORAGES["staticfiles"]).encode())
    entries = []
    for finder in get_finders():
        for path, storage in finder.list([]):
            source = Path(storage.path(path))
            stat = source.stat()
            entries.append(f"{source}\0{stat.st_size}\0{stat.st_mtime_ns}\n")
    for entry in sorted(entries):
        digest.update(entry.encode())
    return digest.hexdigest()
