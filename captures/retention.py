"""Retention policy: how long images stay, how they are thinned, which are protected.

Also the storage figures the admin shows (usage, bytes per day, steady-state
forecast). The cleanup routine that acts on the policy lives in
operations/cleanup.py; which images a batch protects, in batches/protection.py.
"""

from __future__ import annotations

import itertools
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, Sum
from django.utils import timezone

from cameras.models import Camera
from captures.models import Image

GRANULARITIES = ("hour", "day", "none")


@dataclass(frozen=True)
class Tier:
    """From `after_days` of age on, keep one image per `keep_one_per` bucket ("none": keep none)."""

    after_days: int
    keep_one_per: str


@dataclass(frozen=True)
class Policy:
    retention_days: int
    tiers: tuple[Tier, ...] = ()

    @property
    def keep_all_days(self) -> int:
        """Everything younger is kept. Tiers only thin from the first tier's age on."""
        if not self.tiers:
            return self.retention_days
        return max(self.retention_days, self.tiers[0].after_days)

    def tier_for_age(self, age: timedelta) -> Tier | None:
        """The tier that governs an image of this age (the last one it has reached)."""
        chosen = None
        for tier in self.tiers:
            if age >= timedelta(days=tier.after_days):
                chosen = tier
        return chosen

    def describe(self) -> str:
        text = f"keep all {self.retention_days} days"
        for tier in self.tiers:
            text += (
                f", then none after {tier.after_days} days"
                if tier.keep_one_per == "none"
                else f", then 1 per {tier.keep_one_per} after {tier.after_days} days"
            )
        return text


def parse_thinning_tiers(value: str) -> tuple[Tier, ...]:
    """Parse TIMELAPSER_THINNING_TIERS, e.g. "30:hour,180:day,730:none" (empty: no thinning)."""
    tiers = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        days, sep, granularity = part.partition(":")
        if not sep or not days.strip().isdigit() or granularity.strip() not in GRANULARITIES:
            raise ImproperlyConfigured(
                f"TIMELAPSER_THINNING_TIERS: {part!r} is not DAYS:hour, DAYS:day or DAYS:none "
                '(example: "30:hour,180:day")'
            )
        tiers.append(Tier(int(days), granularity.strip()))
    return _checked(tiers, "TIMELAPSER_THINNING_TIERS")


def tiers_from_json(value: list) -> tuple[Tier, ...]:
    """A camera's thinning_tiers: [{"after_days": 30, "keep_one_per": "hour"}, ...]."""
    if not isinstance(value, list):
        raise ValueError("thinning_tiers must be a list of {after_days, keep_one_per}")
    tiers = []
    for item in value:
        try:
            tier = Tier(int(item["after_days"]), str(item["keep_one_per"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"thinning tier {item!r} needs after_days and keep_one_per") from exc
        if tier.after_days < 0 or tier.keep_one_per not in GRANULARITIES:
            raise ValueError(f"thinning tier {item!r}: keep_one_per is hour, day or none; days >= 0")
        tiers.append(tier)
    return _checked(tiers, "thinning_tiers")


def _checked(tiers: list[Tier], what: str) -> tuple[Tier, ...]:
    days = [tier.after_days for tier in tiers]
    if len(set(days)) != len(days):
        raise ImproperlyConfigured(f"{what}: two tiers start on the same day")
    return tuple(sorted(tiers, key=lambda tier: tier.after_days))


def default_policy() -> Policy:
    return Policy(
        retention_days=settings.TIMELAPSER_RETENTION_DAYS,
        tiers=parse_thinning_tiers(settings.TIMELAPSER_THINNING_TIERS),
    )


def policy_for(camera: Camera) -> Policy:
    """The camera's own settings where it has them, the environment's otherwise."""
    default = default_policy()
    retention = default.retention_days if camera.retention_days is None else camera.retention_days
    tiers = default.tiers if camera.thinning_tiers is None else tiers_from_json(camera.thinning_tiers)
    return Policy(retention_days=retention, tiers=tiers)


def bucket_key(granularity: str, captured_at: datetime, tz: zoneinfo.ZoneInfo) -> tuple:
    """The hour or day an image belongs to, in the camera's own time zone.

    The UTC offset is part of an hour's key so the repeated hour when clocks go
    back counts as two hours, as the wall clock shows them.
    """
    local = captured_at.astimezone(tz)
    if granularity == "day":
        return ("day", local.date())
    return ("hour", local.date(), local.hour, local.utcoffset())


def better(a: tuple, b: tuple) -> bool:
    """Is candidate a = (quality_score, captured_at, id) a better keeper than b?

    Best quality score first (no score counts as worst), then the earliest.
    """
    qa = -1 if a[0] is None else a[0]
    qb = -1 if b[0] is None else b[0]
    if qa != qb:
        return qa > qb
    return (a[1], a[2]) < (b[1], b[2])


# --- Storage awareness -------------------------------------------------------


@dataclass(frozen=True)
class StorageStats:
    camera_id: int
    images: int
    bytes_used: int
    bytes_per_day: float  # average over the last 7 days
    images_per_day: float
    # Usage once the policy has run long enough that deletes match captures.
    # None when a tier keeps images forever: usage then grows by growth_per_day.
    steady_state_bytes: int | None
    growth_per_day: float


def forecast(policy: Policy, bytes_per_day: float, images_per_day: float) -> tuple[int | None, float]:
    """Steady-state usage under a policy, and what still grows per day once there.

    Every image is kept for keep_all_days; in an hour tier at most one image per
    hour (fewer if the camera takes fewer), in a day tier one per day. When the
    last tier keeps images forever there is no steady state: returns
    (None, bytes added per day for good).
    """
    if images_per_day <= 0:
        return 0, 0.0
    image_bytes = bytes_per_day / images_per_day
    kept_per_day = {"hour": min(24.0, images_per_day), "day": min(1.0, images_per_day), "none": 0.0}
    total = bytes_per_day * policy.keep_all_days
    if not policy.tiers:
        return round(total), 0.0
    starts = [policy.keep_all_days] + [
        t.after_days for t in policy.tiers if t.after_days > policy.keep_all_days
    ]
    for start, end in itertools.pairwise(starts):
        tier = policy.tier_for_age(timedelta(days=start))
        total += kept_per_day[tier.keep_one_per] * image_bytes * (end - start)
    last = policy.tier_for_age(timedelta(days=starts[-1]))
    growth = kept_per_day[last.keep_one_per] * image_bytes
    if growth > 0:
        return None, growth
    return round(total), 0.0


def storage_stats(cameras=None, now: datetime | None = None) -> list[StorageStats]:
    """Per camera: usage, 7-day average bytes/day and the steady-state forecast.

    Two grouped queries for all cameras (usage sums every image row of each
    camera, so on millions of rows cache the result rather than call it per
    request; the admin calls it once per page).
    """
    now = now or timezone.now()
    cameras = list(Camera.objects.all() if cameras is None else cameras)
    ids = [camera.pk for camera in cameras]
    totals = {
        row["camera_id"]: row
        for row in Image.objects.filter(camera_id__in=ids)
        .values("camera_id")
        .annotate(n=Count("id"), size=Sum("file_size_bytes"))
        .order_by()
    }
    recent = {
        row["camera_id"]: row
        for row in Image.objects.filter(camera_id__in=ids, captured_at__gte=now - timedelta(days=7))
        .values("camera_id")
        .annotate(n=Count("id"), size=Sum("file_size_bytes"))
        .order_by()
    }
    result = []
    for camera in cameras:
        total = totals.get(camera.pk, {})
        week = recent.get(camera.pk, {})
        bytes_per_day = (week.get("size") or 0) / 7
        images_per_day = (week.get("n") or 0) / 7
        steady, growth = forecast(policy_for(camera), bytes_per_day, images_per_day)
        result.append(
            StorageStats(
                camera_id=camera.pk,
                images=total.get("n") or 0,
                bytes_used=total.get("size") or 0,
                bytes_per_day=bytes_per_day,
                images_per_day=images_per_day,
                steady_state_bytes=steady,
                growth_per_day=growth,
            )
        )
    return result
