"""Import a folder of existing pictures into a camera: the `importimages` command and the admin's form."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from cameras.models import Camera
from captures.ingest import import_file, imported_hashes
from captures.sources import CaptureError

SUFFIXES = {".jpg", ".jpeg", ".png"}


class ImportRefused(ValueError):
    """The folder cannot be imported from (missing, not a folder, or not an allowed place)."""


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0  # imported before (same bytes)
    failed: int = 0  # not a picture, too large, unreadable
    stopped_early: bool = False  # the time budget ran out; running again goes on where it stopped
    # (file name relative to the folder, why) for each failure; never a full path.
    failures: list[tuple[str, str]] = field(default_factory=list)


def allowed_roots() -> list[Path]:
    return [Path(root).resolve() for root in settings.TIMELAPSER_IMPORT_DIRS]


def checked_folder(raw: str | Path, roots: list[Path] | None = None) -> Path:
    """The folder `raw` names, resolved; with `roots`, only if it lies inside one of them.

    The admin passes roots: a web form must not read whatever the server's user can
    (`../../etc`, a symlink out). The command passes none: its user has a shell anyway.
    """
    if not str(raw).strip() or "\x00" in str(raw):
        raise ImportRefused("Give the folder's path.")
    folder = Path(raw).expanduser()
    if roots is not None and not folder.is_absolute():
        raise ImportRefused("Give the folder's full path, starting with /.")
    folder = folder.resolve()
    if roots is not None and not any(folder.is_relative_to(root) for root in roots):
        raise ImportRefused(
            "Imports from the admin may only read folders under "
            + ", ".join(str(root) for root in roots)
            + " (TIMELAPSER_IMPORT_DIRS)."
        )
    if not folder.is_dir():
        raise ImportRefused(f"{folder} is not a folder.")
    return folder


def import_folder(
    camera: Camera, folder: Path, roots: list[Path] | None = None, seconds: float | None = None
) -> ImportReport:
    """Import every picture under `folder` (recursively, in name order) that was not imported before.

    Files are checked like captures (decoded, not HTML, at most the capture size
    limit); captured_at comes from EXIF, else the file's mtime (ingest.import_file).
    With `roots`, a file whose real path leads outside them (a symlink) fails.
    With `seconds`, it stops after about that long (a web request must end).
    """
    report = ImportReport()
    known = imported_hashes(camera)
    limit = settings.TIMELAPSER_CAPTURE_MAX_BYTES
    deadline = time.monotonic() + seconds if seconds is not None else None
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES):
        if deadline is not None and time.monotonic() > deadline:
            report.stopped_early = True
            break
        name = str(path.relative_to(folder))
        try:
            real = path.resolve()
            if roots is not None and not any(real.is_relative_to(root) for root in roots):
                raise CaptureError("failed", "links outside the allowed folders")
            if not real.is_file():
                continue
            if real.stat().st_size > limit:
                raise CaptureError("failed", f"larger than {limit} bytes")
            outcome = import_file(camera, real, known)
        except CaptureError as exc:
            report.failed += 1
            report.failures.append((name, exc.reason))
            continue
        except OSError as exc:
            report.failed += 1
            report.failures.append((name, f"unreadable ({exc.strerror or type(exc).__name__})"))
            continue
        if outcome is None:
            report.skipped += 1
        else:
            report.imported += 1
    return report
