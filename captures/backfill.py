"""Filling capture slots that have no image from a Protect console's recordings.

The recordings are behind Protect's private API (`/proxy/protect/api/...`), which takes a
local console user's login cookie, not the API key. Each filled image carries
`backfilled: true` in its metadata and the slot it fills, so a second run finds nothing to do
(the slot is unique per camera). Requests share the console's budget and are paced at
PROTECT_BACKFILL_RATE per second on top, so live captures keep most of it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError
from django.utils import timezone

from cameras.models import Camera
from cameras.schedule import capture_window_reason
from captures import ingest, protect
from captures.models import Image
from captures.sources import CaptureError, _Deadline, _retry_after, option


class BackfillRefused(Exception):
    """The console would not give recordings; the message says why and what to do."""


@dataclass
class Report:
    slots: int = 0
    already: int = 0
    filled: int = 0
    no_recording: int = 0

    def line(self) -> str:
        return (
            f"slots={self.slots} already_had_an_image={self.already} filled={self.filled} "
            f"no_recording={self.no_recording}"
        )


def missing_slots(
    camera: Camera, start: datetime, end: datetime, now: datetime | None = None
) -> tuple[int, list]:
    """(slots in [start, end), the ones without an image): each capture interval inside the camera's windows."""
    now = now or timezone.now()
    step = camera.capture_interval_seconds
    end = min(end, now)
    first = math.ceil(start.timestamp() / step) * step
    slots = []
    for stamp in range(first, math.ceil(end.timestamp()), step):
        slot = datetime.fromtimestamp(stamp, UTC)
        if capture_window_reason(camera, slot) is None:
            slots.append(slot)
    have = set(
        Image.objects.filter(camera=camera, capture_slot__gte=start, capture_slot__lt=end).values_list(
            "capture_slot", flat=True
        )
    )
    return len(slots), [slot for slot in slots if slot not in have]


def _refusal(status: int, during: str) -> BackfillRefused:
    if status == 401 and during == "login":
        return BackfillRefused(
            "The console refused the local user's login (HTTP 401). Recordings need a local console "
            "user (UniFi OS: Admins & Users, 'Restrict to local access'), not the API key or a UI.com "
            "account with two-factor login; set it on the console page."
        )
    if status == 429 and during == "login":
        return BackfillRefused("The console is rate-limiting logins (HTTP 429); try again in a few minutes.")
    if status == 429:
        return BackfillRefused(
            "The console kept rate-limiting recording requests (HTTP 429) after waiting as it asked; run "
            "again later (filled slots are kept), or lower TIMELAPSER_CAPTURE_PROTECT_BACKFILL_RATE."
        )
    if status == 403:
        return BackfillRefused(
            "The local user may not view recordings (HTTP 403): give it a Protect role that can view video."
        )
    if status == 401:
        return BackfillRefused(
            "The console ended the local user's session (HTTP 401); run the backfill again."
        )
    return BackfillRefused(f"The console answered HTTP {status} to the {during} request.")


def _login(access: protect.ConsoleAccess, deadline: _Deadline) -> dict:
    if not (access.username and access.password):
        raise BackfillRefused(
            "No local console user is set for this console: recordings need one (the API key cannot "
            "read them). Set it on the console page in the admin or with manage.py protect --local-user-env."
        )
    answer = protect.request(
        access,
        "POST",
        "/api/auth/login",
        deadline,
        json={"username": access.username, "password": access.password, "rememberMe": False},
        api_key=False,
    )
    if answer.status != 200:
        raise _refusal(answer.status, "login")
    cookie = answer.headers.get("set-cookie", "")
    token = cookie.split(";", 1)[0].partition("=")[2] if cookie.startswith("TOKEN=") else ""
    if not token:
        raise BackfillRefused("The console accepted the login but gave no session cookie.")
    headers = {"x-csrf-token": answer.headers["x-csrf-token"]} if "x-csrf-token" in answer.headers else {}
    return {"cookies": {"TOKEN": token}, "headers": headers}


def _recording(access: protect.ConsoleAccess, path: str, slot: datetime, session: dict) -> protect.Answer:
    """One recording frame; a 429 is waited out as the console asks (Retry-After), a few times."""
    retries = option("PROTECT_RETRIES", 3)
    for attempt in range(retries + 1):
        answer = protect.request(
            access,
            "GET",
            path,
            _Deadline(option("DEADLINE", 20.0)),
            params={"ts": str(int(slot.timestamp() * 1000))},
            api_key=False,
            **session,
        )
        if answer.status != 429 or attempt == retries:
            break
        # A long Retry-After is obeyed only up to a minute; past that the run stops and says so.
        time.sleep(min(60.0, _retry_after(answer.headers, attempt)))
    return answer


def fill_gaps(
    camera: Camera, start: datetime, end: datetime, progress: Callable[[Report], None] | None = None
) -> Report:
    """Fill the camera's empty slots between start and end from the console's recordings."""
    if camera.console_id is None or not camera.protect_camera_id:
        raise BackfillRefused("Only cameras added from a UniFi Protect console have recordings to fill from.")
    access = protect.access_for(camera.console)
    total, missing = missing_slots(camera, start, end)
    report = Report(slots=total, already=total - len(missing))
    if progress is not None:
        progress(report)
    if not missing:
        return report
    session = _login(access, _Deadline(option("DEADLINE", 20.0)))
    pause = 1.0 / option("PROTECT_BACKFILL_RATE", 4)
    path = f"/proxy/protect/api/cameras/{camera.protect_camera_id}/recording-snapshot"
    for index, slot in enumerate(missing):
        started = time.monotonic()
        answer = _recording(access, path, slot, session)
        if answer.status == 404:
            report.no_recording += 1
        elif answer.status != 200:
            raise _refusal(answer.status, "recording")
        else:
            try:
                ingest.store(
                    camera,
                    answer.body,
                    slot,
                    slot=slot,
                    record_attempt=False,
                    extra_metadata={"backfilled": True, "source": "protect-recording"},
                )
                report.filled += 1
            except IntegrityError:
                report.already += 1  # a live capture or another run filled it meanwhile
            except CaptureError as error:
                raise BackfillRefused(f"A recording frame could not be stored: {error.reason}") from None
        if progress is not None and (index % 10 == 9 or index == len(missing) - 1):
            progress(report)
        time.sleep(max(0.0, pause - (time.monotonic() - started)))
    return report
