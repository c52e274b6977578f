"""Policies: parsing the environment, per-camera overrides, tiers, buckets and forecasts."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from cameras.models import Camera
from captures.retention import (
    Policy,
    Tier,
    better,
    bucket_key,
    forecast,
    parse_thinning_tiers,
    policy_for,
    tiers_from_json,
)


def test_thinning_tiers_parse_in_day_order():
    assert parse_thinning_tiers(" 180:day, 30:hour ,730:none") == (
        Tier(30, "hour"),
        Tier(180, "day"),
        Tier(730, "none"),
    )


def test_empty_thinning_tiers_mean_no_thinning():
    assert parse_thinning_tiers("") == ()
    assert parse_thinning_tiers(" , ") == ()


@pytest.mark.parametrize("value", ["30", "30:week", "x:hour", "-1:day", "30:hour,30:day"])
def test_bad_thinning_tiers_say_what_is_wrong(value):
    with pytest.raises(ImproperlyConfigured, match="TIMELAPSER_THINNING_TIERS"):
        parse_thinning_tiers(value)


def test_camera_tiers_come_from_json_and_are_checked():
    assert tiers_from_json(
        [{"after_days": 60, "keep_one_per": "day"}, {"after_days": 7, "keep_one_per": "hour"}]
    ) == (
        Tier(7, "hour"),
        Tier(60, "day"),
    )
    with pytest.raises(ValueError, match="keep_one_per"):
        tiers_from_json([{"after_days": 7, "keep_one_per": "minute"}])
    with pytest.raises(ValueError, match="after_days"):
        tiers_from_json([{"days": 7}])


def test_camera_without_overrides_gets_the_environment_policy(settings):
    settings.TIMELAPSER_RETENTION_DAYS = 14
    settings.TIMELAPSER_THINNING_TIERS = "30:hour"
    assert policy_for(Camera()) == Policy(14, (Tier(30, "hour"),))


def test_camera_overrides_win_and_an_empty_tier_list_turns_thinning_off(settings):
    settings.TIMELAPSER_RETENTION_DAYS = 14
    settings.TIMELAPSER_THINNING_TIERS = "30:hour"
    assert policy_for(Camera(retention_days=3, thinning_tiers=[])) == Policy(3, ())


def test_tiers_keep_everything_until_the_first_tier_is_reached():
    policy = Policy(10, (Tier(30, "hour"), Tier(180, "day")))
    assert policy.keep_all_days == 30
    assert Policy(10).keep_all_days == 10
    assert policy.tier_for_age(timedelta(days=31)) == Tier(30, "hour")
    assert policy.tier_for_age(timedelta(days=200)) == Tier(180, "day")


def test_hour_buckets_follow_the_camera_clock_through_the_autumn_change():
    tz = zoneinfo.ZoneInfo("Europe/Berlin")
    # 2026-10-25 01:30 and 00:30 UTC are both 02:30 local: two different wall-clock hours.
    first = bucket_key("hour", datetime(2026, 10, 25, 0, 30, tzinfo=UTC), tz)
    second = bucket_key("hour", datetime(2026, 10, 25, 1, 30, tzinfo=UTC), tz)
    assert first != second
    # 23:30 UTC on the 24th is already the 25th in Berlin.
    assert bucket_key("day", datetime(2026, 10, 24, 23, 30, tzinfo=UTC), tz) == ("day", first[1])


def test_the_better_keeper_has_the_higher_score_then_is_earlier():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert better((80, t + timedelta(minutes=5), 2), (70, t, 1))
    assert better((None, t, 1), (None, t + timedelta(minutes=1), 2))
    assert not better((None, t, 1), (0, t + timedelta(minutes=1), 2))


def test_forecast_without_tiers_is_retention_days_of_captures():
    assert forecast(Policy(30), bytes_per_day=1_000_000, images_per_day=1000) == (30_000_000, 0.0)


def test_forecast_with_tiers_adds_one_image_per_bucket():
    # 1,440 images of 1 kB a day: 30 days whole, then 24/day until 180, then 1/day until 365.
    policy = Policy(30, (Tier(30, "hour"), Tier(180, "day"), Tier(365, "none")))
    steady, growth = forecast(policy, bytes_per_day=1_440_000, images_per_day=1440)
    assert steady == 30 * 1_440_000 + 150 * 24 * 1000 + 185 * 1000
    assert growth == 0.0


def test_forecast_says_when_usage_never_stops_growing():
    steady, growth = forecast(Policy(30, (Tier(30, "day"),)), bytes_per_day=1_440_000, images_per_day=1440)
    assert steady is None
    assert growth == 1000
