"""The rate limit against the real Redis the production setup uses (CACHE_URL=redis://...)."""

from __future__ import annotations

import pytest
import redis
from django.core.cache import caches

from sharing.cache import RedisCache
from tests.factories import make_share

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_url(redis_server) -> str:
    # This run's own Redis: clear() is a FLUSHDB, which on a shared server was other suites' too.
    return redis_server.url(3)


@pytest.fixture
def redis_limits(settings, redis_url):
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {
            "BACKEND": "sharing.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "tl-test-sharing",
        },
    }
    settings.RATELIMIT_USE_CACHE = "ratelimit"
    caches["ratelimit"].clear()
    yield caches["ratelimit"]
    caches["ratelimit"].clear()


def test_the_backend_reuses_one_client_and_counts_atomically(redis_limits):
    assert isinstance(redis_limits, RedisCache)
    first = redis_limits._cache.get_client(write=True)

    redis_limits.add("n", 0)
    redis_limits.incr("n")
    redis_limits.incr("n")

    assert redis_limits.get("n") == 2
    assert redis_limits._cache.get_client(write=True) is first


def test_enumeration_is_cut_off_by_the_redis_counter(
    client, settings, redis_limits, redis_url, make_video_batch
):
    settings.SHARING_RATE_LIMIT = "4/m"
    share = make_share([make_video_batch()])

    statuses = [client.get(f"/share/guess-{i}").status_code for i in range(6)]

    assert statuses == [404] * 4 + [429] * 2
    assert client.get(f"/share/{share.token}").status_code == 429
    # The counter lives in Redis, where every gunicorn worker sees it.
    assert any(b"tl-test-sharing" in key for key in redis.Redis.from_url(redis_url).keys("*"))


def test_incr_of_a_missing_counter_is_an_error_and_keeps_the_expiry(redis_limits):
    with pytest.raises(ValueError):
        redis_limits.incr("gone")
    assert redis_limits.get("gone") is None, "no counter without an expiry was made"

    redis_limits.add("n", 1, timeout=60)
    assert redis_limits.incr("n", 5) == 6
    client = redis_limits._cache.get_client(write=True)
    assert 0 < client.ttl(redis_limits.make_key("n")) <= 60
