"""Re-encrypt the camera secrets file under the newest TIMELAPSER_SECRETS_KEY.

Put the new key first in TIMELAPSER_SECRETS_KEY (keeping the old one after it),
run this, then drop the old key. `--rehash` recomputes url_hash after SECRET_KEY changed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cameras import secrets
from cameras.services import rehash_all


class Command(BaseCommand):
    help = "Re-encrypt camera secrets under the newest key (and optionally recompute URL hashes)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--rehash", action="store_true", help="recompute url_hash (after SECRET_KEY changed)"
        )

    def handle(self, *args, **options):
        try:
            count = secrets.rotate()
        except secrets.SecretError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Re-encrypted {count} camera secret(s) under the newest key.")
        if options["rehash"]:
            self.stdout.write(f"Recomputed {rehash_all()} URL hash(es).")
