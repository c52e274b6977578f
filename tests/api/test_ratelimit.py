"""The per-token rate (api/ratelimit.py): its setting's notation, its window, and its counter
in the real Redis production uses, where one round trip both makes and counts it."""

from __future__ import annotations

import pytest
import redis
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from api import ratelimit
from api.ratelimit import Rate, parse_rate


@pytest.mark.parametrize(
    ("value", "rate"),
    [
        ("600/m", Rate(600, 60)),
        ("100/5m", Rate(100, 300)),
        ("1/s", Rate(1, 1)),
        (" 10 / 2h ", Rate(10, 7200)),
    ],
)
def test_the_rate_setting_reads_as_django_ratelimit_wrote_it(value, rate):
    assert parse_rate(value) == rate


@pytest.mark.parametrize("value", ["", "600", "600/x", "0/m", "10/0m", "-1/m", "m/600"])
def test_a_bad_rate_setting_is_a_clear_configuration_error(value):
    with pytest.raises(ImproperlyConfigured, match="TIMELAPSER_API_RATE_LIMIT"):
        parse_rate(value)


def test_a_new_window_starts_a_new_count(settings):
    settings.TIMELAPSER_API_RATE_LIMIT = "2/m"
    start = 1_800_000_000.0  # the start of a minute
    assert [ratelimit.retry_after(7, start + 1) for _ in range(3)] == [None, None, 59]
    assert ratelimit.retry_after(7, start + 60) is None
    assert ratelimit.retry_after(8, start + 1) is None, "another token has its own count"


def test_no_limit_when_rate_limits_are_switched_off(settings):
    settings.TIMELAPSER_API_RATE_LIMIT = "1/m"
    settings.RATELIMIT_ENABLE = False
    assert [ratelimit.retry_after(7) for _ in range(3)] == [None, None, None]


@pytest.fixture
def redis_limits(settings, redis_server):
    # This run's own Redis: clear() is a FLUSHDB.
    url = redis_server.url(4)
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {"BACKEND": "sharing.cache.RedisCache", "LOCATION": url, "KEY_PREFIX": "tl-test-api"},
    }
    settings.RATELIMIT_USE_CACHE = "ratelimit"
    caches["ratelimit"].clear()
    yield redis.Redis.from_url(url)
    caches["ratelimit"].clear()


def test_the_redis_counter_is_made_with_its_expiry_and_counts(redis_limits):
    cache = caches["ratelimit"]

    assert [cache.count("n", 65) for _ in range(3)] == [1, 2, 3]

    assert 0 < redis_limits.ttl(cache.make_key("n")) <= 65


def test_each_token_is_limited_in_redis_by_one_script_call_a_request(redis_limits, settings, api_as):
    settings.TIMELAPSER_API_RATE_LIMIT = "3/m"
    first, _ = api_as("cameras.view_camera", username="a")
    second, _ = api_as("cameras.view_camera", username="b")
    redis_limits.config_resetstat()

    codes = [first.get("/api/v1/cameras").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    assert 1 <= int(first.responses[-1]["Retry-After"]) <= 60
    assert second.get("/api/v1/cameras").status_code == 200
    # Five requests, five calls of the script (besides a first one that loads it), nothing else.
    stats = redis_limits.info("commandstats")
    evalsha = stats["cmdstat_evalsha"]
    assert evalsha["calls"] - evalsha["failed_calls"] == 5
    assert not {"cmdstat_set", "cmdstat_exists", "cmdstat_get"} & stats.keys()
