"""Best frame of the day: per local day, the N best frames within a window around a time of day.

For long timelapses (a year at one frame a day) the frame each day shows matters
more than how many there are. Each candidate in the window is scored from the
same grayscale thumbnail as the capture-time quality score (captures.imaging),
then judged against its own day, so a foggy or blurred frame loses to a clear
one however the light was. The report of who won and why the others lost is
kept in the batch's selection (`best_frames`) and shown on its admin page.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from batches.ffmpeg import RenderError
from batches.frames import data_path
from captures import imaging
from captures.models import Image
from captures.sources import CaptureError

# Scoring reads each candidate's file: at one capture a minute a ±2 h window holds
# 240 per day, so a year would mean 87,600 decodes. Evenly spaced 60 per day keep
# that to ~22,000 (draft-mode thumbnails, about a millisecond each at 1080p).
MAX_CANDIDATES_PER_DAY = 60
# Judged against the day's best: rain on the lens or lost focus shows as far less
# detail than the sharpest frame of the same day, fog as far less contrast.
BLURRED_BELOW = 0.35  # of the day's highest sharpness
LOW_CONTRAST_BELOW = 0.5  # of the day's highest spread
# Two consecutive candidates under this difference are the same picture (one rule with
# the camera page's test connection: captures.imaging.same_picture).
FROZEN_BELOW = imaging.FROZEN_BELOW
# captures.imaging.quality's flags that disqualify a frame on their own.
REJECTING_FLAGS = {"dark": "too dark", "overexposed": "overexposed", "blank": "blank", "blurry": "blurred"}


@dataclass
class Candidate:
    image_id: int
    captured_at: datetime
    score: int = 0
    mean: float = 0.0
    spread: float = 0.0
    sharpness: float = 0.0
    rejected: list[str] = field(default_factory=list)


def _window_day(local: datetime, around: time, window_hours: float) -> date | None:
    """The day whose window holds this local time, or None; a window may wrap midnight."""
    target = around.hour * 60 + around.minute
    minutes = local.hour * 60 + local.minute + local.second / 60
    offset = (minutes - target + 720) % 1440 - 720
    if abs(offset) > window_hours * 60:
        return None
    # 00:30 in a 23:00 ± 2 h window belongs to the day before.
    return (local - timedelta(minutes=offset)).date()


def _spread_evenly(items: list, limit: int) -> list:
    if len(items) <= limit:
        return items
    return [items[int((i + 0.5) * len(items) / limit)] for i in range(limit)]


def _score(candidates: list[Candidate], paths: dict[int, str]) -> None:
    """Score each candidate from its file's thumbnail; absolute flags, then frozen against the one before."""
    # Here, not at the top: batches.tasks imports this module, and the capture worker, which
    # never picks a best frame, would carry numpy (~14 MB) for it.
    import numpy as np

    previous: np.ndarray | None = None
    for candidate in candidates:
        try:
            gray = imaging.gray_thumbnail(data_path(paths[candidate.image_id]))
        except (RenderError, CaptureError, KeyError):
            candidate.rejected.append("file missing or unreadable")
            previous = None
            continue
        frozen = previous is not None and imaging.same_picture(gray, previous)
        previous = gray
        candidate.score, stats = imaging.quality(gray, frozen=frozen)
        candidate.mean, candidate.spread, candidate.sharpness = (
            stats["mean"],
            stats["spread"],
            stats["sharpness"],
        )
        for flag in stats["flags"]:
            if flag in REJECTING_FLAGS:
                candidate.rejected.append(f"{REJECTING_FLAGS[flag]} ({_stat_for(flag, stats)})")
        if frozen:
            candidate.rejected.append("frozen (the same picture as the frame before)")


def _stat_for(flag: str, stats: dict) -> str:
    if flag in ("dark", "overexposed"):
        return f"mean brightness {stats['mean']:.0f}"
    if flag == "blank":
        return f"contrast {stats['spread']:.1f}"
    return f"sharpness {stats['sharpness']:.0f}"


def _judge_within_day(candidates: list[Candidate]) -> None:
    """Blur and low contrast relative to the day's best clean frame (fog, rain on the lens)."""
    clean = [c for c in candidates if not c.rejected]
    if not clean:
        return
    sharpest = max(c.sharpness for c in clean)
    widest = max(c.spread for c in clean)
    for candidate in clean:
        if candidate.spread < LOW_CONTRAST_BELOW * widest:
            candidate.rejected.append(f"low contrast ({candidate.spread:.1f}, the day's best {widest:.1f})")
        if candidate.sharpness < BLURRED_BELOW * sharpest:
            candidate.rejected.append(
                f"blurred (sharpness {candidate.sharpness:.0f}, the day's best {sharpest:.0f})"
            )


def _day_report(
    day: date, in_window: int, candidates: list[Candidate], per_day: int, tz
) -> tuple[list, dict]:
    _judge_within_day(candidates)
    clean = sorted((c for c in candidates if not c.rejected), key=lambda c: (-c.score, -c.sharpness))
    winners = sorted(clean[:per_day], key=lambda c: c.captured_at)
    best = clean[0] if clean else None

    def at(c: Candidate) -> str:
        return c.captured_at.astimezone(tz).strftime("%H:%M")

    others = []
    for candidate in candidates:
        if candidate in winners:
            continue
        if candidate.rejected:
            why = "; ".join(candidate.rejected)
        elif candidate.score < best.score:
            why = f"lower score ({candidate.score} against {best.score})"
        else:
            why = f"less detail (sharpness {candidate.sharpness:.0f} against {best.sharpness:.0f})"
        others.append({"image_id": candidate.image_id, "time": at(candidate), "why": why})
    report = {
        "date": day.isoformat(),
        "in_window": in_window,
        "scored": len(candidates),
        "picked": [
            {"image_id": c.image_id, "time": at(c), "score": c.score, "sharpness": round(c.sharpness)}
            for c in winners
        ],
        "others": others,
    }
    if not winners:
        report["note"] = "Every candidate was rejected: this day has no frame."
    return [(c.image_id, c.captured_at) for c in winners], report


def pick(
    rows: list[tuple[int, datetime]], tz_name: str, per_day: int, around: time, window_hours: float
) -> tuple[list[tuple[int, datetime]], dict]:
    """The winning (id, captured_at) rows, oldest first, and the report of every day's choice."""
    tz = zoneinfo.ZoneInfo(tz_name)
    days: dict[date, list[tuple[int, datetime]]] = defaultdict(list)
    for pk, captured_at in rows:
        day = _window_day(captured_at.astimezone(tz), around, window_hours)
        if day is not None:
            days[day].append((pk, captured_at))
    picked: list[tuple[int, datetime]] = []
    reports = []
    for day in sorted(days):
        sampled = _spread_evenly(days[day], MAX_CANDIDATES_PER_DAY)
        paths = dict(Image.objects.filter(pk__in=[pk for pk, _ in sampled]).values_list("pk", "file_path"))
        candidates = [Candidate(pk, at) for pk, at in sampled]
        _score(candidates, paths)
        winners, report = _day_report(day, len(days[day]), candidates, per_day, tz)
        picked.extend(winners)
        reports.append(report)
    summary = {
        "per_day": per_day,
        "around": around.strftime("%H:%M"),
        "window_hours": window_hours,
        "days": reports,
    }
    return picked, summary
