"""Connect a UniFi Protect console and add its cameras: `protect https://CONSOLE[:PORT] --list | --add ...`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cameras.models import ProtectConsole
from cameras.services import (
    CameraError,
    env_value,
    normalise_console_address,
    normalise_fingerprint,
    save_console,
)
from captures import discovery, protect
from captures.sources import CaptureError


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


class Command(BaseCommand):
    help = (
        "Connect a UniFi Protect console once (address, API key, certificate) and list or add its "
        "cameras. Re-running updates names and states and never adds a camera twice. The API key "
        "and the local user's password are read from environment variables, never from the "
        "command line (which `ps` shows)."
    )

    def add_arguments(self, parser):
        parser.add_argument("address", help="https://CONSOLE[:PORT]")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--list", action="store_true", help="list the console's cameras")
        action.add_argument(
            "--add", nargs="+", metavar="ID", help="'all' or camera ids (ID:package for a package camera)"
        )
        parser.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the API key")
        parser.add_argument("--fingerprint", metavar="SHA256HEX", help="pin the console's certificate")
        parser.add_argument(
            "--no-verify",
            action="store_true",
            help="do not check the certificate at all (prefer --fingerprint)",
        )
        parser.add_argument("--name", default="", help="what to call the console (default: its address)")
        parser.add_argument(
            "--local-user-env", metavar="VAR", help="variable holding a local console user (recordings)"
        )
        parser.add_argument(
            "--local-password-env", metavar="VAR", help="variable holding that user's password"
        )

    def handle(self, *args, **options):
        try:
            address = normalise_console_address(options["address"])
            pin = normalise_fingerprint(options["fingerprint"] or "")
            api_key = env_value(options["api_key_env"], "the API key")
            username = env_value(options["local_user_env"], "the local user")
            password = env_value(options["local_password_env"], "the local user's password")
        except CameraError as exc:
            raise CommandError(str(exc)) from None
        existing = ProtectConsole.objects.filter(address=address).first()
        if existing is None and not api_key:
            raise CommandError("A new console needs --api-key-env VAR (the variable holding its API key).")
        try:
            seen = protect.certificate_fingerprint(address)
        except CaptureError as exc:
            raise CommandError(exc.reason) from None
        self.stdout.write(f"certificate_sha256={seen}")
        verify = not options["no_verify"] if existing is None or options["no_verify"] else existing.verify_tls
        pin = pin or (existing.certificate_sha256 if existing else "")
        if pin and pin != seen:
            raise CommandError(
                "The console's certificate does not match the pinned fingerprint; nothing was sent. "
                "Check the console, then pin the fingerprint printed above if you trust it."
            )
        access = protect.ConsoleAccess(
            address=address,
            api_key=api_key or protect.access_for(existing).api_key,
            verify_tls=verify,
            fingerprint=pin,
        )
        try:
            protect.list_cameras(access)  # the key and the certificate work before anything is saved
        except CaptureError as exc:
            hint = ""
            if "not trusted" in exc.reason:
                hint = f" To trust this console, rerun with --fingerprint {seen} after checking it on the console."
            raise CommandError(exc.reason + hint) from None
        try:
            console, _ = save_console(
                address,
                api_key=api_key,
                name=options["name"],
                verify_tls=verify,
                fingerprint=pin,
                username=username,
                password=password,
            )
        except CameraError as exc:
            raise CommandError(str(exc)) from None
        try:
            if options["list"]:
                self._list(console)
            else:
                self._add(console, "all" if options["add"] == ["all"] else options["add"])
        except CaptureError as exc:
            raise CommandError(exc.reason) from None

    def _list(self, console: ProtectConsole) -> None:
        self.stdout.write("id\tname\tmodel\tstate\tfull_hd_snapshot\tpackage_camera\tadded_as")
        for row in discovery.listing(console):
            self.stdout.write(
                f"{row.key}\t{row.name}\t{row.camera.model}\t{row.camera.state}\t"
                f"{yes_no(row.camera.full_hd_snapshot)}\t{yes_no(bool(row.channel) or row.camera.package_camera)}\t"
                f"{row.added.name if row.added else '-'}"
            )

    def _add(self, console: ProtectConsole, keys) -> None:
        report = discovery.add_cameras(console, keys)
        for camera in report.added:
            self.stdout.write(f"added {camera.pk}\t{camera.name}")
        for camera in report.updated:
            self.stdout.write(f"updated {camera.pk}\t{camera.name}")
        for name, why in report.refused:
            self.stderr.write(f"not added {name}: {why}")
        if report.refused and not report.added:
            raise CommandError("No camera was added.")
