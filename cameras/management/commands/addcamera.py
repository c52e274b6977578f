"""Add a camera: `addcamera NAME URL [options]`; prints the new camera's id and nothing else."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from cameras.models import Camera
from cameras.services import CameraError, add_camera, env_value


class Command(BaseCommand):
    help = (
        "Add a camera. URL is http(s)://..., rtsp(s)://..., unifi-protect://CONSOLE/CAMERA_ID, "
        "or env:VAR to keep it in the environment. Passwords and API keys are read from "
        "environment variables, never from the command line (which `ps` shows)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("url")
        parser.add_argument("--interval", type=int, default=60, help="seconds between captures")
        parser.add_argument("--day-counter-start", type=date.fromisoformat, help="YYYY-MM-DD: day 1")
        parser.add_argument("--rotation", choices=Camera.Rotation.values, default="none")
        parser.add_argument("--overlay-position", choices=Camera.OverlayPosition.values, default="top-right")
        parser.add_argument("--username", default="")
        parser.add_argument("--password-env", metavar="VAR", help="environment variable holding the password")
        parser.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the API key")
        parser.add_argument("--timezone", help="the camera's time zone (for Day N), e.g. Europe/Berlin")

    def handle(self, *args, **options):
        if options["interval"] < 1:
            raise CommandError("--interval must be at least 1 second.")
        fields = {
            "capture_interval_seconds": options["interval"],
            "rotation": options["rotation"],
            "day_overlay_position": options["overlay_position"],
        }
        if options["day_counter_start"]:
            fields.update(day_counter_enabled=True, day_counter_start_date=options["day_counter_start"])
        if options["timezone"]:
            fields["timezone"] = options["timezone"]
        try:
            camera = add_camera(
                options["name"],
                options["url"],
                username=options["username"],
                password=env_value(options["password_env"], "the password"),
                api_key=env_value(options["api_key_env"], "the API key"),
                **fields,
            )
        except CameraError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(camera.pk))
