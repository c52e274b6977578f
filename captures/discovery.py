"""Adding a console's cameras from its list: named as the console names them, never twice.

Used by `manage.py protect` and the console's "Cameras" page in the admin. Re-running
updates names, models and states of cameras added before.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from cameras.models import Camera, ProtectConsole
from cameras.services import CameraError, add_camera
from captures import protect


@dataclass(frozen=True)
class Listed:
    """One row of the discovery list: a camera or its package camera."""

    camera: protect.ProtectCamera
    channel: str  # "" or "package"
    added: Camera | None

    @property
    def key(self) -> str:
        return f"{self.camera.id}:{self.channel}" if self.channel else self.camera.id

    @property
    def name(self) -> str:
        return f"{self.camera.name} (package)" if self.channel else self.camera.name


def listing(console: ProtectConsole) -> list[Listed]:
    """Every camera of the console (and package camera), with the Timelapser camera it is, if any."""
    cameras = protect.list_cameras(protect.access_for(console))
    existing = {(c.protect_camera_id, c.protect_channel): c for c in console.cameras.all()}
    rows = []
    for camera in cameras:
        rows.append(Listed(camera, "", existing.get((camera.id, ""))))
        if camera.package_camera:
            rows.append(Listed(camera, "package", existing.get((camera.id, "package"))))
    return rows


def _free_name(wanted: str, console: ProtectConsole, exclude_pk: int | None = None) -> str:
    """The console's name for the camera, or with the console's name after it if taken."""
    for candidate in (wanted, f"{wanted} ({console.name})"):
        if not Camera.objects.filter(name=candidate).exclude(pk=exclude_pk).exists():
            return candidate
    number = 2
    while Camera.objects.filter(name=f"{wanted} ({console.name}) {number}").exclude(pk=exclude_pk).exists():
        number += 1
    return f"{wanted} ({console.name}) {number}"


@dataclass
class Report:
    added: list[Camera]
    updated: list[Camera]
    refused: list[tuple[str, str]]  # (name, why)


def _refresh(camera: Camera, row: Listed, console: ProtectConsole) -> bool:
    info = row.camera.info()
    name = camera.name if camera.name == row.name else _free_name(row.name, console, camera.pk)
    if camera.protect_info == info and camera.name == name:
        return False
    camera.protect_info, camera.name = info, name
    camera.save(update_fields=["protect_info", "name", "updated_at"])
    return True


def add_cameras(console: ProtectConsole, keys: list[str] | str) -> Report:
    """Add the listed cameras whose key is in `keys` ("all" for every one); refresh those added before."""
    rows = listing(console)
    report = Report(added=[], updated=[], refused=[])
    known = {row.key for row in rows}
    if keys != "all":
        for key in set(keys) - known:
            report.refused.append((key, "The console lists no camera with this id."))
    for row in rows:
        if row.added is not None:
            if _refresh(row.added, row, console):
                report.updated.append(row.added)
            continue
        if keys != "all" and row.key not in keys:
            continue
        suffix = f"?channel={row.channel}" if row.channel else ""
        try:
            with transaction.atomic():
                camera = add_camera(
                    _free_name(row.name, console),
                    f"unifi-protect://{console.address}/{row.camera.id}{suffix}",
                    console=console,
                    protect_camera_id=row.camera.id,
                    protect_channel=row.channel,
                    protect_info=row.camera.info(),
                    # The package camera has only the snapshot endpoint.
                    source_mode=Camera.SourceMode.SNAPSHOT if row.channel else Camera.SourceMode.AUTO,
                )
        except CameraError as exc:
            report.refused.append((row.name, str(exc)))
            continue
        report.added.append(camera)
    return report
