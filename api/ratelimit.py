"""Each token's request rate (TIMELAPSER_API_RATE_LIMIT): a fixed-window counter in the
shared cache, so every gunicorn worker counts against the same number.

With Redis (CACHE_URL=redis://...) a request costs one round trip: one script makes the
window's counter with its expiry and counts (sharing/cache.py). django-ratelimit, which the
share routes use, needs two (add, then increment).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Seconds a counter outlives its window, so a slow request still finds it.
_SLACK = 5


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds


def parse_rate(value: str) -> Rate:
    """django-ratelimit's notation, which the setting has always used: "600/m", "100/5m"."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*", value or "")
    if not match or int(match.group(1)) < 1 or match.group(2) == "0":
        raise ImproperlyConfigured(
            f"TIMELAPSER_API_RATE_LIMIT must look like 600/m or 100/5m (s, m, h, d), not {value!r}"
        )
    return Rate(int(match.group(1)), int(match.group(2) or 1) * _UNITS[match.group(3)])


def retry_after(token_pk: int, now: float | None = None) -> int | None:
    """None while the token is within its rate; else the seconds until its window ends.
    Counts this request."""
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return None
    rate = parse_rate(settings.TIMELAPSER_API_RATE_LIMIT)
    now = time.time() if now is None else now
    window = int(now) // rate.period
    key = f"api-rate:{token_pk}:{rate.period}:{window}"
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    timeout = rate.period + _SLACK
    count = getattr(cache, "count", None)
    if count is not None:
        hits = count(key, timeout)
    else:  # another cache backend (locmem in the lean layout and tests): add, then count
        cache.add(key, 0, timeout)
        try:
            hits = cache.incr(key)
        except ValueError:  # expired in between: this request starts the count
            cache.add(key, 1, timeout)
            hits = 1
    if hits <= rate.limit:
        return None
    return max(1, (window + 1) * rate.period - int(now))
