"""Framing rules, security headers, Open Graph / Twitter unfurls and oEmbed."""

from __future__ import annotations

import json

import pytest

from sharing import services
from tests.factories import make_share

pytestmark = pytest.mark.django_db


def frame_ancestors(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(p.strip() for p in policy.split(";") if p.strip().startswith("frame-ancestors"))


def test_share_page_cannot_be_framed(client, make_video_batch):
    share = make_share([make_video_batch()], embed_enabled=True)

    response = client.get(f"/share/{share.token}")

    assert response["X-Frame-Options"] == "DENY"
    assert frame_ancestors(response) == "frame-ancestors 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_embed_allows_any_ancestor_when_no_domains_are_listed(client, make_video_batch):
    share = make_share([make_video_batch()], embed_enabled=True)

    response = client.get(f"/embed/{share.token}")

    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert frame_ancestors(response) == "frame-ancestors *"
    assert "<video" in response.content.decode()


def test_embed_lists_only_the_allowed_domains(client, make_video_batch):
    share = make_share(
        [make_video_batch()],
        embed_enabled=True,
        embed_allowed_domains=["https://blog.example.com", "*.example.net", "evil.com; script-src *"],
    )

    response = client.get(f"/embed/{share.token}")

    assert frame_ancestors(response) == "frame-ancestors https://blog.example.com *.example.net"
    assert "script-src *" not in response["Content-Security-Policy"].replace("script-src 'self'", "")


def test_open_graph_and_twitter_player_card(client, make_video_batch):
    share = make_share([make_video_batch()], title="Tower crane", embed_enabled=True)
    link = share.share_batches.get()
    base = f"https://timelapse.example.org/share/{share.share_token}"

    html = client.get(f"/share/{share.token}").content.decode()

    assert '<meta property="og:title" content="Tower crane">' in html
    assert '<meta property="og:type" content="video.other">' in html
    assert f'<meta property="og:url" content="{base}">' in html
    assert f'<meta property="og:image" content="{base}/poster/{link.pk}.jpg">' in html
    assert f'<meta property="og:video" content="{base}/video/{link.pk}.mp4">' in html
    assert f'<meta property="og:video:secure_url" content="{base}/video/{link.pk}.mp4">' in html
    assert '<meta property="og:video:type" content="video/mp4">' in html
    assert '<meta property="og:video:width" content="320">' in html
    assert '<meta property="og:video:height" content="240">' in html
    assert '<meta name="twitter:card" content="player">' in html
    assert (
        f'<meta name="twitter:player" content="https://timelapse.example.org/embed/{share.share_token}">'
        in html
    )
    assert 'type="application/json+oembed"' in html


def test_without_embed_there_is_no_player_card_or_oembed(client, make_video_batch):
    share = make_share([make_video_batch()])

    html = client.get(f"/share/{share.token}").content.decode()

    assert "twitter:player" not in html
    assert "json+oembed" not in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html


def test_oembed_returns_a_video_per_the_spec(client, make_video_batch):
    share = make_share([make_video_batch()], title="Bridge <b>", embed_enabled=True)
    url = f"https://timelapse.example.org/share/{share.token}"

    response = client.get("/oembed", {"url": url, "maxwidth": "160"})
    data = json.loads(response.content)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert data["version"] == "1.0"
    assert data["type"] == "video"
    assert (data["width"], data["height"]) == (160, 120)
    assert f'src="https://timelapse.example.org/embed/{share.share_token}"' in data["html"]
    assert 'width="160" height="120"' in data["html"]
    assert "Bridge &lt;b&gt;" in data["html"]
    assert data["title"] == "Bridge <b>"
    assert data["thumbnail_url"].endswith(".jpg")
    assert data["provider_name"] == "Timelapser"


def test_oembed_accepts_embed_urls_and_fits_maxheight(client, make_video_batch):
    share = make_share([make_video_batch()], embed_enabled=True)

    data = client.get(
        "/oembed", {"url": f"https://timelapse.example.org/embed/{share.token}", "maxheight": "60"}
    ).json()

    assert (data["width"], data["height"]) == (80, 60)


def test_oembed_refusals(client, make_video_batch):
    public = make_share([make_video_batch()], embed_enabled=True)
    no_embed = make_share([make_video_batch()])
    locked = make_share([make_video_batch()], embed_enabled=True)
    services.set_password(locked, "pw-123456")
    locked.save()
    site = "https://timelapse.example.org"

    def status(url, **extra):
        return client.get("/oembed", {"url": url, **extra}).status_code

    assert status(f"{site}/share/00000000-0000-4000-8000-000000000000") == 404
    assert status(f"{site}/share/{no_embed.token}") == 404
    assert status(f"https://elsewhere.example/share/{public.token}") == 404
    assert status(f"{site}/share/{locked.token}") == 401
    assert status(f"{site}/share/{public.token}", format="xml") == 501
    assert status(f"{site}/share/{public.token}") == 200
    assert "video" not in client.get("/oembed", {"url": f"{site}/share/{locked.token}"}).content.decode()
