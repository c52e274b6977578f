"""Password shares: locked until the right password, unlocked per share by a signed cookie."""

from __future__ import annotations

import pytest

from sharing import services
from tests.factories import make_share

pytestmark = pytest.mark.django_db


@pytest.fixture
def locked(make_video_batch):
    share = make_share([make_video_batch()], title="Private build", embed_enabled=True, download_enabled=True)
    services.set_password(share, "correct horse")
    share.save()
    return share


def test_password_is_stored_hashed(locked):
    assert locked.password_hash.startswith("md5$")  # the configured Django hasher (tests use the fast one)
    assert "correct horse" not in locked.password_hash


def test_locked_page_shows_a_form_and_no_video_url(client, locked):
    response = client.get(f"/share/{locked.token}")
    html = response.content.decode()

    assert response.status_code == 200
    assert 'name="password"' in html
    assert "/video/" not in html
    assert "/poster/" not in html
    assert "og:video" not in html
    assert "og:image" not in html
    assert "twitter:player" not in html
    assert "oembed" not in html
    locked.refresh_from_db()
    assert locked.view_count == 0


def test_media_of_a_locked_share_is_404(client, locked):
    link = locked.share_batches.get()

    assert client.get(f"/share/{locked.token}/video/{link.pk}.mp4").status_code == 404
    assert client.get(f"/share/{locked.token}/download").status_code == 404
    assert client.get(f"/share/{locked.token}/poster/{link.pk}.jpg").status_code == 404


def test_wrong_password_is_refused(client, locked):
    response = client.post(f"/share/{locked.token}/unlock", {"password": "nope"})

    assert response.status_code == 401
    assert "not right" in response.content.decode()
    assert f"tl_share_{locked.pk}" not in response.cookies


def test_right_password_unlocks_page_and_media(client, locked):
    link = locked.share_batches.get()

    response = client.post(f"/share/{locked.token}/unlock", {"password": "correct horse"})

    assert response.status_code == 302
    cookie = response.cookies[f"tl_share_{locked.pk}"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    page = client.get(f"/share/{locked.token}")
    assert f"/video/{link.pk}.mp4" in page.content.decode()
    assert client.get(f"/share/{locked.token}/video/{link.pk}.mp4", HTTP_RANGE="bytes=0-1").status_code == 206
    locked.refresh_from_db()
    assert locked.view_count == 1


def test_the_cookie_of_one_share_does_not_unlock_another(client, locked, make_video_batch):
    other = make_share([make_video_batch()], title="Other")
    services.set_password(other, "correct horse")
    other.save()
    client.post(f"/share/{locked.token}/unlock", {"password": "correct horse"})
    # Even copied under the other share's name, the signature's salt does not match.
    client.cookies[f"tl_share_{other.pk}"] = client.cookies[f"tl_share_{locked.pk}"].value

    assert 'name="password"' in client.get(f"/share/{other.token}").content.decode()


def test_changing_the_password_locks_out_old_cookies(client, locked):
    client.post(f"/share/{locked.token}/unlock", {"password": "correct horse"})
    services.set_password(locked, "new secret")
    locked.save()

    assert 'name="password"' in client.get(f"/share/{locked.token}").content.decode()


def test_unlock_needs_csrf(locked):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        f"/share/{locked.token}/unlock", {"password": "correct horse"}
    )

    assert response.status_code == 403


def test_embed_of_a_locked_share_links_out_without_video(client, locked):
    html = client.get(f"/embed/{locked.token}").content.decode()

    assert "password protected" in html
    assert "<video" not in html


def test_a_short_password_is_refused_and_the_share_stays_as_it_was(make_video_batch):
    share = make_share([make_video_batch()], title="Open site")

    with pytest.raises(ValueError, match="at least 8 characters"):
        services.set_password(share, "1234567")

    assert share.access_type == "public" and not share.password_hash
    services.set_password(share, "12345678")  # eight will do
    assert services.password_matches(share, "12345678")


def test_create_share_refuses_a_short_password_and_makes_no_share(make_video_batch):
    from sharing.models import Share

    with pytest.raises(ValueError, match="at least 8 characters"):
        services.create_share([make_video_batch()], "Quick", password="abc")
    assert not Share.objects.exists()
