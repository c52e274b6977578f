"""`manage.py cleanup`: apply the retention policies now (beat runs it nightly)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cameras.models import Camera
from operations.cleanup import CleanupBusy, run_cleanup


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


class Command(BaseCommand):
    help = "Delete images past their camera's retention policy, orphan files, old attempts and superseded videos."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report what would go; change nothing.")
        parser.add_argument(
            "--camera", action="append", metavar="NAME", help="Only this camera (repeatable)."
        )

    def handle(self, *args, dry_run: bool = False, camera: list[str] | None = None, **options):
        if camera:
            unknown = set(camera) - set(Camera.objects.filter(name__in=camera).values_list("name", flat=True))
            if unknown:
                raise CommandError(f"No camera named {', '.join(sorted(unknown))}")
        try:
            report = run_cleanup(dry_run=dry_run, camera_names=camera)
        except CleanupBusy as exc:
            raise CommandError("Another cleanup is running; try again when it has finished.") from exc
        # The admin's cleanup page shows the last real run, whoever started it.
        from operations.cleanup_preview import record_run

        record_run(report, camera)

        verb = "would delete" if dry_run else "deleted"
        if dry_run:
            self.stdout.write("Dry run: nothing is changed.")
        for c in report.cameras:
            if c.error:
                self.stderr.write(f"{c.camera}: skipped, its retention policy is invalid: {c.error}")
                continue
            self.stdout.write(
                f"{c.camera}: {verb} {c.deleted} images ({_size(c.deleted_bytes)}); "
                f"kept {c.kept_age} by age, {c.kept_protected} protected, {c.kept_tier} by tier "
                f"[{c.policy}]"
            )
        if not camera:
            self.stdout.write(
                f"Orphan files: {verb} {report.orphan_files} ({_size(report.orphan_bytes)}). "
                f"Thumbnails of deleted images: {verb} {report.thumbnails_removed}. "
                f"Capture attempts: {verb} {report.attempts_pruned}. "
                f"Superseded continuous videos: {verb} {report.outputs_removed} "
                f"({report.shares_repointed} share links moved to the newest)."
            )
