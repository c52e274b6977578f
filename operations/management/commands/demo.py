"""`manage.py demo`: a camera, three days of pictures, two rendered timelapses and a share, no hardware."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from cameras import secrets
from cameras.models import Camera
from cameras.services import CameraError, add_camera
from common.siteurl import absolute_url

DEMO_NAME = "Demo camera"
# Night frames score 65-85 (dark), fog about 40 (blank), daylight 100 (captures.imaging.quality).
DEMO_MIN_QUALITY = 90


class Command(BaseCommand):
    help = (
        "Create a demo camera backed by the built-in fake camera, fill three days of images with the "
        "day counter on, render a continuous and a checkpoint timelapse, share both on an info page."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=3)
        parser.add_argument("--per-day", type=int, default=24, help="pictures per day (daylight hours)")
        parser.add_argument("--width", type=int, default=1280)
        parser.add_argument("--height", type=int, default=720)

    def handle(self, *args, days, per_day, width, height, **options):
        from batches import continuous, render
        from batches.models import TimelapseBatch
        from batches.selection import Selection, create_batch
        from captures import ingest, sources
        from captures.fakecamera import FakeCamera
        from operations import demoscene
        from sharing.services import create_share

        if Camera.objects.filter(name=DEMO_NAME).exists():
            raise CommandError(f"{DEMO_NAME!r} already exists; delete it in the admin to run the demo again.")
        if days < 1 or per_day < 2:
            raise CommandError("--days must be at least 1 and --per-day at least 2.")

        tz = timezone.get_default_timezone()
        today = timezone.localdate()
        # Whole days ending yesterday, so the result does not depend on the hour it runs at.
        first_day = today - timedelta(days=days)
        # The fake camera listens on 127.0.0.1 only while this command runs (the camera is
        # saved disabled), so loopback is allowed for this block whatever the setting says.
        with (
            override_settings(TIMELAPSER_CAMERA_ALLOW_LOOPBACK=True),
            FakeCamera(size=(width, height), frames=1) as fake,
        ):
            try:
                camera = add_camera(
                    DEMO_NAME,
                    fake.url(),
                    day_counter_enabled=True,
                    day_counter_start_date=first_day,
                    timezone=str(tz),
                    continuous_mode=Camera.ContinuousMode.PERIODIC,
                    # The fake camera lives only while this command runs: no schedule may call it later.
                    enabled=False,
                )
            except CameraError as exc:
                raise CommandError(str(exc)) from exc
            secret = secrets.load_secret(camera.encryption_key_ref)
            # 05:00 to 21:00: the first and last pictures of a day are in the dark.
            step = timedelta(hours=16) / per_day
            stored = 0
            for day in range(days):
                morning = datetime.combine(first_day + timedelta(days=day), time(5, 0), tzinfo=tz)
                for n in range(per_day):
                    captured_at = morning + n * step
                    # One foggy picture on the second day, for the quality filter to drop.
                    spoiled = "fog" if day == 1 and n == per_day // 2 else None
                    fake.frames[0] = demoscene.frame(captured_at, day, (width, height), spoiled)
                    # Each picture comes over HTTP from the fake camera, like a real one.
                    ingest.store(camera, sources.fetch(secret).data, captured_at)
                    stored += 1
        self.stdout.write(
            f"Stored {stored} pictures over {days} days for {DEMO_NAME!r} (Day 1 to Day {days})."
        )

        rolling = continuous.request_update(camera, queue=False)
        render.render_batch(rolling.pk)
        # The checkpoint keeps only good pictures: the night and fog ones are left out.
        checkpoint = create_batch(
            camera,
            Selection(fps=12, min_quality=DEMO_MIN_QUALITY),
            batch_type=TimelapseBatch.BatchType.CHECKPOINT,
        )
        render.render_batch(checkpoint.pk)
        for batch in (rolling, checkpoint):
            batch.refresh_from_db()
            if batch.status != TimelapseBatch.Status.COMPLETED:
                raise CommandError(f"Rendering batch {batch.pk} failed: {batch.error_message}")
            self.stdout.write(
                f"Rendered {batch.get_batch_type_display().lower()} batch {batch.pk}: {batch.total_frames} frames."
            )

        dropped = camera.images.count() - checkpoint.total_frames
        self.stdout.write(
            f"The quality filter (at least {DEMO_MIN_QUALITY}) left out {dropped} dark or foggy pictures."
        )
        # The clean checkpoint first: the share's large player is what a newcomer sees first.
        share = create_share(
            [checkpoint, rolling],
            "Demo site: three days",
            share_type="info_page",
            description="A timelapse made by the demo command from the built-in fake camera.",
            download_enabled=True,
            embed_enabled=True,
        )
        titles = {
            rolling.pk: "Live: every day so far",
            checkpoint.pk: "The build, day by day (good pictures only)",
        }
        for link in share.share_batches.all():
            link.custom_title = titles[link.timelapse_batch_id]
            link.save(update_fields=["custom_title"])
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(f"Admin:  {absolute_url(reverse('admin:index'))}")
        self.stdout.write(f"Share:  {absolute_url(reverse('sharing:page', args=[share.token]))}")
