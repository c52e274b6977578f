"""The admin's cleanup preview, worked out on the maintenance worker instead of in the request,
and the record of the last real run, which the admin shows beside it.

A dry run walks every image past its keep-all age: 15 s at 5 million images in
bench/cleanup.py (`cleanup_preview_s`), growing with the data past what a web
request may take (gunicorn kills a worker after 30 s). So the view queues `operations.tasks.preview_cleanup` and the page waits for its
result, a JSON file under DATA_DIR/cleanup-previews/ that every process can read
(web and workers may run on different hosts; DATA_DIR is their shared storage).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from operations.cleanup import CleanupBusy, run_cleanup

KEEP_SECONDS = 24 * 3600
# Not "<token>.json": kept however old, until the next real run replaces it.
LAST_RUN = "last-run.record"
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _folder() -> Path:
    path = Path(settings.DATA_DIR) / "cleanup-previews"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_token() -> str:
    """A name for one preview: the page asks for the result under it."""
    return uuid.uuid4().hex


def run_preview(camera_names: list[str], token: str) -> None:
    """The task's work: the dry run, saved where the admin page finds it."""
    result: dict = {"cameras": camera_names}
    try:
        report = run_cleanup(dry_run=True, camera_names=camera_names or None)
    except CleanupBusy:
        result["busy"] = True
    else:
        result["report"] = _as_dict(report)
    _write(_folder() / f"{token}.json", result)
    _forget_old()


def _as_dict(report) -> dict:
    data = {k: v for k, v in dataclasses.asdict(report).items() if k != "page_seconds"}
    data["deleted"] = report.deleted
    data["deleted_bytes"] = sum(c.deleted_bytes for c in report.cameras)
    return data


def record_run(report, camera_names: list[str] | None) -> None:
    """Keep what a real cleanup did (nightly, queued from the admin, or the command) for the admin."""
    if report.dry_run:
        return
    result = {"cameras": camera_names or [], "finished_at": time.time(), "report": _as_dict(report)}
    _write(_folder() / LAST_RUN, result)


def load_last_run() -> dict | None:
    """The last real run's record, with `finished` as a datetime and `by_camera` the cameras
    that lost images; None before the first run."""
    try:
        record = json.loads((_folder() / LAST_RUN).read_text())
    except (OSError, ValueError):
        return None
    record["finished"] = datetime.fromtimestamp(record["finished_at"], UTC)
    record["by_camera"] = [c for c in record["report"]["cameras"] if c.get("deleted")]
    return record


def is_token(value: str) -> bool:
    return bool(_TOKEN.match(value))


def load_preview(token: str) -> dict | None:
    """The saved result for `token`, or None while it is being worked out (or if the token is bad)."""
    if not is_token(token):
        return None
    try:
        return json.loads((_folder() / f"{token}.json").read_text())
    except (OSError, ValueError):
        return None


def _write(target: Path, data: dict) -> None:
    # Write then rename, so the page never reads half a file.
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(fd, "w") as out:
        json.dump(data, out)
    Path(tmp).replace(target)


def _forget_old() -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in _folder().glob("*.json"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass
