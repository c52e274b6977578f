"""Brute-force protection: after AXES_FAILURE_LIMIT bad passwords the admin login locks out."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "operator", password="correct-horse-battery", is_staff=True, is_superuser=True
    )


def attempt(client, password):
    return client.post(LOGIN, {"username": "operator", "password": password, "next": "/admin/"})


def test_bad_passwords_up_to_the_limit_lock_out_even_the_right_one(client, staff, settings):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = attempt(client, "wrong")
        assert response.status_code == 200  # the form again, with an error

    locked = attempt(client, "wrong")
    assert locked.status_code == 429
    after = attempt(client, "correct-horse-battery")

    assert after.status_code == 429
    assert b"locked" in after.content.lower()
    assert client.get("/admin/").status_code == 302  # not logged in
    assert AccessAttempt.objects.get(username="operator").failures_since_start >= limit


def test_fewer_bad_passwords_than_the_limit_still_allow_login(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 2):
        attempt(client, "wrong")

    response = attempt(client, "correct-horse-battery")

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
