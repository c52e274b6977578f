"""`manage.py retry BATCH_ID ...`: queue failed renders again (the admin's "Retry" action)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from batches import lifecycle
from batches.models import TimelapseBatch


class Command(BaseCommand):
    help = "Put failed batches back to pending and queue them for rendering; others are left alone."

    def add_arguments(self, parser):
        parser.add_argument("batch_ids", nargs="+", type=int, metavar="BATCH_ID")

    def handle(self, *args, batch_ids: list[int], **options):
        found = TimelapseBatch.objects.in_bulk(batch_ids)
        missing = [pk for pk in batch_ids if pk not in found]
        if missing:
            raise CommandError(f"No batch with id {', '.join(map(str, missing))}.")
        for pk in batch_ids:
            batch = found[pk]
            if lifecycle.retry(batch):
                self.stdout.write(f"Batch {pk} queued again.")
            else:
                self.stderr.write(f"Batch {pk} is {batch.status}, not failed; left as it is.")
