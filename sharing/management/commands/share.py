"""`manage.py share BATCH_ID ... --title T`: publish batches and print the share's path."""

from __future__ import annotations

import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from batches.models import TimelapseBatch
from sharing import services
from sharing.models import Share


class Command(BaseCommand):
    help = "Create a share of one or more completed batches and print its path (/share/<token>)."

    def add_arguments(self, parser):
        parser.add_argument("batch_ids", nargs="+", type=int, metavar="BATCH_ID")
        parser.add_argument("--title", required=True)
        parser.add_argument("--description")
        parser.add_argument("--type", dest="share_type", choices=Share.ShareType.values, default="video_only")
        parser.add_argument("--download", action="store_true", help="allow downloads")
        parser.add_argument("--embed", action="store_true", help="allow /embed/<token>")
        parser.add_argument(
            "--expires", help="ISO 8601 date-time with an offset, e.g. 2026-12-31T23:59:00+00:00"
        )
        parser.add_argument("--slug", help="vanity token instead of the UUID")
        parser.add_argument(
            "--password-env", metavar="VAR", help="protect with the password in this environment variable"
        )

    def handle(self, *args, batch_ids, title, share_type, **options):
        found = TimelapseBatch.objects.in_bulk(batch_ids)
        missing = [pk for pk in batch_ids if pk not in found]
        if missing:
            raise CommandError(f"No batch with id {', '.join(map(str, missing))}.")
        # A batch re-rendering (or whose re-render failed) still has its published video.
        unfinished = [pk for pk in batch_ids if not found[pk].is_published]
        if unfinished:
            raise CommandError(f"Batch {', '.join(map(str, unfinished))} has not finished rendering.")

        expires_at = None
        if options["expires"]:
            expires_at = parse_datetime(options["expires"])
            if expires_at is None or expires_at.tzinfo is None:
                raise CommandError(
                    "--expires must be an ISO 8601 date-time with an offset, e.g. 2026-12-31T23:59Z."
                )

        password = None
        if options["password_env"]:
            # Read from the environment so the password never lands in shell history or `ps`.
            password = os.environ.get(options["password_env"])
            if not password:
                raise CommandError(f"Environment variable {options['password_env']} is not set or empty.")

        try:
            share = services.create_share(
                [found[pk] for pk in batch_ids],
                title,
                share_type=share_type,
                description=options["description"],
                download_enabled=options["download"],
                embed_enabled=options["embed"],
                expires_at=expires_at,
                slug=options["slug"],
                password=password,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"/share/{share.token}")
