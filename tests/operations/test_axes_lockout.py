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


def test_one_users_bad_passwords_do_not_lock_out_another_from_the_same_address(
    client, staff, django_user_model, settings
):
    """GIVEN the documented reverse proxy, where every visitor has the proxy's address, WHEN
    someone fails the limit as "operator", THEN "owner" still logs in from that address."""
    django_user_model.objects.create_user("owner", password="owner-pass-phrase", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong")
    assert attempt(client, "correct-horse-battery").status_code == 429  # operator: locked

    response = client.post(LOGIN, {"username": "owner", "password": "owner-pass-phrase", "next": "/admin/"})

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_behind_a_proxy_the_trusted_header_is_the_clients_address(client, staff, settings):
    """TIMELAPSER_TRUSTED_PROXY_HEADER=X-Real-IP: axes records the address nginx put there."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_REAL_IP", "REMOTE_ADDR")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "operator", "password": "wrong"}, HTTP_X_REAL_IP="203.0.113.7")

    from_elsewhere = client.post(
        LOGIN,
        {"username": "operator", "password": "correct-horse-battery", "next": "/admin/"},
        HTTP_X_REAL_IP="198.51.100.20",
    )

    assert AccessAttempt.objects.get(username="operator").ip_address == "203.0.113.7"
    assert from_elsewhere.status_code == 302  # the lockout is for that address, not the proxy's
