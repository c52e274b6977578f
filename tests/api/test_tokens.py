"""Tokens: a bearer header or nothing, stored as a hash, revocable at once, scoped, rate limited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from api import tokens
from api.models import ApiToken
from tests.factories import make_camera

pytestmark = pytest.mark.django_db


def test_a_request_without_a_token_gets_401_with_a_json_message(client):
    response = client.get("/api/v1/cameras")
    assert response.status_code == 401
    assert response.json()["message"].startswith("A valid API token is required")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Bearer nope", "Bearer " + "x" * 5000, "Basic abc", "Bearer", "bearer \x00"]
)
def test_hostile_or_wrong_authorization_headers_get_401_never_500(client, header):
    response = client.get("/api/v1/cameras", headers={"Authorization": header})
    assert response.status_code == 401


def test_the_token_is_stored_only_as_its_sha256(make_user):
    token, raw = tokens.issue(make_user("u"), "ha", "read")
    row = ApiToken.objects.get(pk=token.pk)
    assert raw not in str(row.__dict__)
    assert row.token_hash == tokens.hash_token(raw)
    assert raw.startswith(row.prefix)


def test_a_revoked_token_stops_working_at_once(api_as):
    api, token = api_as("cameras.view_camera")
    assert api.get("/api/v1/cameras").status_code == 200
    tokens.revoke(token)
    assert api.get("/api/v1/cameras").status_code == 401


def test_an_expired_token_is_refused(api_as):
    api, token = api_as("cameras.view_camera")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get("/api/v1/cameras").status_code == 401


def test_a_token_of_a_deactivated_user_is_refused(api_as):
    api, token = api_as("cameras.view_camera")
    token.user.is_active = False
    token.user.save()
    assert api.get("/api/v1/cameras").status_code == 401


def test_last_use_is_recorded(api_as):
    api, token = api_as("cameras.view_camera")
    assert ApiToken.objects.get(pk=token.pk).last_used_at is None
    api.get("/api/v1/cameras")
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_a_read_token_cannot_change_anything_even_for_a_superuser(api_as):
    api, _ = api_as(scope="read", superuser=True)
    camera = make_camera()
    response = api.post(f"/api/v1/cameras/{camera.pk}/capture")
    assert response.status_code == 403
    assert "read-only" in response.json()["message"]


def test_a_user_without_the_admin_permission_gets_403(api_as):
    api, _ = api_as("captures.view_image")
    response = api.get("/api/v1/cameras")
    assert response.status_code == 403
    assert "cameras.view_camera" in response.json()["message"]


def test_a_view_only_operator_can_read_but_not_capture(api_as):
    api, _ = api_as("cameras.view_camera", scope="write")
    camera = make_camera()
    assert api.get(f"/api/v1/cameras/{camera.pk}").status_code == 200
    assert api.post(f"/api/v1/cameras/{camera.pk}/capture").status_code == 403


def test_each_token_has_its_own_rate_limit(api_as, settings):
    settings.TIMELAPSER_API_RATE_LIMIT = "3/m"
    first, _ = api_as("cameras.view_camera", username="a")
    second, _ = api_as("cameras.view_camera", username="b")
    codes = [first.get("/api/v1/cameras").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert first.responses[-1].json()["message"].startswith("Too many requests")
    # Seconds until this token's minute is over.
    assert 1 <= int(first.responses[-1]["Retry-After"]) <= 60
    assert second.get("/api/v1/cameras").status_code == 200


def test_the_apitoken_command_prints_a_working_token(make_user, capsys):
    make_user("ha", "cameras.view_camera")
    call_command("apitoken", "ha", "--scope", "read", "--name", "Home Assistant")
    raw = capsys.readouterr().out.strip()
    token = tokens.authenticate(raw)
    assert token is not None and token.scope == "read" and token.name == "Home Assistant"


def test_the_apitoken_command_refuses_an_unknown_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("apitoken", "ghost", "--scope", "write")


def test_the_api_permission_check_answers_as_django_does(make_user):
    from django.contrib.auth.models import Group, Permission

    from api.auth import has_perm

    crew = Group.objects.create(name="crew")
    crew.permissions.add(Permission.objects.get(codename="view_image"))
    direct = make_user("direct", "cameras.view_camera")
    grouped = make_user("grouped")
    grouped.groups.add(crew)
    users = [direct, grouped, make_user("nobody"), make_user("root", superuser=True)]
    for user in users:
        token = tokens.authenticate(tokens.issue(user, "t")[1])
        fresh = type(user).objects.get(pk=user.pk)
        for permission in [
            "cameras.view_camera",
            "captures.view_image",
            "sharing.add_share",
            "cameras.nonsense",
        ]:
            assert has_perm(token, permission) == fresh.has_perm(permission), (user, permission)


def test_a_permission_taken_away_holds_on_the_next_request(api_as):
    client, token = api_as("cameras.view_camera", scope="read")
    assert client.get("/api/v1/cameras").status_code == 200
    token.user.user_permissions.clear()
    assert client.get("/api/v1/cameras").status_code == 403
