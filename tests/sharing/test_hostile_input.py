"""Hostile headers, query values and path segments at every public route: a 4xx at worst, never a 500.

Property-based (hypothesis): each route group gets arbitrary values for the headers a
visitor controls, the query string and the path segments, against real shares (a
gallery with downloads and embedding on, a password-protected page) and random
tokens. The one answer of 500 or more that is allowed is oEmbed's 501 for a format
other than json, which the oEmbed spec (section 2.3.4) prescribes.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sharing import services
from sharing.models import Share
from tests.factories import make_share

pytestmark = pytest.mark.django_db

EXAMPLES = hypothesis_settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Digits past Python's 4,300-digit int() limit, superscripts that str.isdigit() accepts.
LONG_DIGITS = st.sampled_from([5000, 4301, 19, 18, 1]).map(lambda n: "9" * n)
TRICKY = st.sampled_from(["²", "١٢", "-1", "0", "1e9", "0x10", "\x00", "%00", "..", "../../etc/passwd", " 1"])
ANY_TEXT = st.one_of(st.text(max_size=60), LONG_DIGITS, TRICKY)
# What a WSGI server can hand us in a header: latin-1 text (PEP 3333), no CR/LF.
LATIN_TRICKY = TRICKY.filter(lambda value: all(ord(char) < 256 for char in value))
HEADER_TEXT = st.one_of(
    st.text(st.characters(min_codepoint=0, max_codepoint=255, exclude_characters="\r\n"), max_size=80),
    LONG_DIGITS,
    LATIN_TRICKY,
)
BYTE_POSITION = st.one_of(LONG_DIGITS, st.just(""), st.integers(0, 10**6).map(str))
RANGE = st.one_of(
    st.builds("bytes={}-{}".format, BYTE_POSITION, BYTE_POSITION),
    st.builds("bytes={}-{},{}-{}".format, BYTE_POSITION, BYTE_POSITION, BYTE_POSITION, BYTE_POSITION),
    HEADER_TEXT,
)
HTTP_DATE = st.one_of(HEADER_TEXT, st.just("Sun, 06 Nov 1994 08:49:37 GMT"), st.just("Mon, 99 Foo 99999 GMT"))


def _host() -> st.SearchStrategy[str]:
    hosts = [h for h in settings.ALLOWED_HOSTS if h not in ("*",) and not h.startswith(".")] + ["testserver"]
    port = st.one_of(
        st.just(""), st.just(""), st.integers(0, 99999).map(":{}".format), HEADER_TEXT.map(":{}".format)
    )
    return st.builds(str.__add__, st.sampled_from(hosts), port)


CONDITIONAL = {
    "HTTP_IF_RANGE": st.one_of(HTTP_DATE, HEADER_TEXT.map('"{}"'.format)),
    "HTTP_IF_NONE_MATCH": st.one_of(HEADER_TEXT, st.just("*"), HEADER_TEXT.map('W/"{}"'.format)),
    "HTTP_IF_MODIFIED_SINCE": HTTP_DATE,
}
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "HTTP_RANGE": RANGE,
        **CONDITIONAL,
        "HTTP_HOST": _host(),
        "HTTP_ACCEPT": HEADER_TEXT,
        "HTTP_ACCEPT_LANGUAGE": HEADER_TEXT,
        "HTTP_COOKIE": st.one_of(HEADER_TEXT, HEADER_TEXT.map("tl_share_1={}".format)),
        "HTTP_USER_AGENT": HEADER_TEXT,
        "HTTP_REFERER": HEADER_TEXT,
        "HTTP_X_FORWARDED_FOR": HEADER_TEXT,
        "HTTP_X_FORWARDED_PROTO": HEADER_TEXT,
    },
)
QUERY = st.dictionaries(
    st.one_of(
        st.sampled_from(["maxwidth", "maxheight", "url", "format", "page", "preview"]), st.text(max_size=20)
    ),
    ANY_TEXT,
    max_size=4,
)


def segment(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A path segment as a browser would send it: percent-encoded, so any character fits."""
    return values.map(lambda value: quote(value, safe=""))


@pytest.fixture
def shares(make_video_batch, make_compare_share):
    gallery = make_share(
        [make_video_batch()],
        share_type=Share.ShareType.GALLERY,
        embed_enabled=True,
        download_enabled=True,
        slug="site-gallery",
    )
    locked = make_share([make_video_batch()], share_type=Share.ShareType.INFO_PAGE, embed_enabled=True)
    services.set_password(locked, "open sesame")
    locked.save()
    frames = gallery.share_batches.get().timelapse_batch.frames.values_list("image_id", flat=True)
    image_ids = [str(pk) for pk in frames]
    item = str(gallery.share_batches.get().pk)
    compare, _ = make_compare_share()  # an info page with the before/after slider
    return {
        "tokens": [gallery.token, str(gallery.share_token), locked.token, compare.token],
        "item": item,
        "images": image_ids,
    }


def _ask(method: str, path: str, query: dict, headers: dict):
    client = Client()
    if method == "POST":
        return client.post(path, {"password": query.get("password", "x"), **query}, **headers)
    return client.generic(method, path + ("?" + urlencode(query) if query else ""), **headers)


def _assert_no_server_error(response, method: str, path: str, query: dict, headers: dict) -> None:
    if response.status_code == 501 and path == "/oembed" and query.get("format", "json") != "json":
        return
    assert response.status_code < 500, (method, path, query, headers, response.status_code)


@EXAMPLES
@given(data=st.data(), headers=HEADERS, query=QUERY)
def test_share_routes_never_answer_a_server_error(shares, data, headers, query):
    # Mostly real tokens and ids: a made-up token is refused before any header is read.
    token = data.draw(
        st.sampled_from(shares["tokens"]) | st.sampled_from(shares["tokens"]) | segment(ANY_TEXT)
    )
    number = data.draw(st.sampled_from([shares["item"], *shares["images"]]) | segment(ANY_TEXT))
    side = data.draw(st.sampled_from(["before", "after", "007bff", "fff"]) | segment(ANY_TEXT))
    route, methods = data.draw(
        st.sampled_from(
            [
                (f"/share/{token}", ["GET", "HEAD"]),
                (f"/share/{token}/unlock", ["POST"]),
                (f"/share/{token}/video/{number}.mp4", ["GET", "HEAD"]),
                (f"/share/{token}/poster/{number}.jpg", ["GET", "HEAD"]),
                (f"/share/{token}/video/{number}/av1.mp4", ["GET", "HEAD"]),
                (f"/share/{token}/previews/{number}/sprite.vtt", ["GET", "HEAD"]),
                (f"/share/{token}/previews/{number}/sprite.jpg", ["GET", "HEAD"]),
                (f"/share/{token}/download", ["GET", "HEAD"]),
                (f"/share/{token}/download/{number}", ["GET", "HEAD"]),
                (f"/share/{token}/frame/{number}/thumb.jpg", ["GET", "HEAD"]),
                (f"/share/{token}/frame/{number}.jpg", ["GET", "HEAD"]),
                (f"/embed/{token}", ["GET"]),
                (f"/share/{token}/compare/{side}.jpg", ["GET", "HEAD"]),
                (f"/share-theme/{side}.css", ["GET", "HEAD"]),
            ]
        ),
    )
    method = data.draw(st.sampled_from(methods))
    response = _ask(method, route, query, headers)
    _assert_no_server_error(response, method, route, query, headers)


@EXAMPLES
@given(data=st.data(), headers=st.fixed_dictionaries({"HTTP_RANGE": RANGE}, optional=CONDITIONAL))
def test_media_routes_answer_any_range_without_a_server_error(shares, data, headers):
    """Real shares and ids, so every request reaches the byte-range arithmetic."""
    token = data.draw(st.sampled_from(shares["tokens"][:2]))
    item, image = shares["item"], shares["images"][0]
    route = data.draw(
        st.sampled_from(
            [
                f"/share/{token}/video/{item}.mp4",
                f"/share/{token}/download",
                f"/share/{token}/poster/{item}.jpg",
                f"/share/{token}/frame/{image}.jpg",
                f"/share/{shares['tokens'][3]}/compare/before.jpg",
            ]
        )
    )
    method = data.draw(st.sampled_from(["GET", "HEAD"]))
    response = _ask(method, route, {}, headers)
    _assert_no_server_error(response, method, route, {}, headers)


@EXAMPLES
@given(data=st.data(), headers=HEADERS, query=QUERY)
def test_oembed_never_answers_a_server_error(shares, data, headers, query):
    token = data.draw(st.sampled_from(shares["tokens"]) | ANY_TEXT)
    kind = data.draw(st.sampled_from(["share", "embed"]))
    url = data.draw(st.just(f"{settings.SITE_URL}/{kind}/{token}") | ANY_TEXT)
    sizes = data.draw(st.fixed_dictionaries({}, optional={"maxwidth": ANY_TEXT, "maxheight": ANY_TEXT}))
    query = {**query, **sizes, "url": url}
    response = _ask("GET", "/oembed", query, headers)
    _assert_no_server_error(response, "GET", "/oembed", query, headers)


@EXAMPLES
@given(data=st.data(), headers=HEADERS, query=QUERY)
def test_site_routes_never_answer_a_server_error(data, headers, query):
    route, methods = data.draw(
        st.one_of(
            st.sampled_from(
                [
                    ("/healthz", ["GET", "HEAD"]),
                    ("/favicon.ico", ["GET", "HEAD"]),
                    ("/", ["GET", "HEAD"]),
                    ("/admin/login/", ["GET", "POST"]),
                    ("/admin/", ["GET"]),
                ]
            ),
            segment(ANY_TEXT).map(lambda s: (f"/{s}", ["GET", "HEAD", "POST"])),
        ),
    )
    method = data.draw(st.sampled_from(methods))
    response = _ask(method, route, query, headers)
    _assert_no_server_error(response, method, route, query, headers)


# --- The cases the issue names, one by one ---------------------------------------


@pytest.fixture
def video_url(make_video_batch):
    share = make_share([make_video_batch()])
    return f"/share/{share.token}/video/{share.share_batches.get().pk}.mp4"


def test_a_range_start_of_5000_digits_is_unsatisfiable(client, video_url):
    response = client.get(video_url, HTTP_RANGE="bytes=" + "9" * 5000 + "-")

    assert response.status_code == 416


def test_a_range_end_of_5000_digits_runs_to_the_end_of_the_file(client, video_url):
    size = int(client.get(video_url)["Content-Length"])

    response = client.get(video_url, HTTP_RANGE="bytes=10-" + "9" * 5000)

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 10-{size - 1}/{size}"


def test_a_suffix_range_of_5000_digits_is_the_whole_file(client, video_url):
    size = int(client.get(video_url)["Content-Length"])

    response = client.get(video_url, HTTP_RANGE="bytes=-" + "9" * 5000)

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 0-{size - 1}/{size}"


@pytest.mark.parametrize("value", ["²", "١٢٠", "9" * 5000, "-5", "0"])
def test_oembed_ignores_a_maxwidth_that_is_not_plain_digits(client, make_video_batch, value):
    share = make_share([make_video_batch()], embed_enabled=True)
    url = f"{settings.SITE_URL}/share/{share.token}"

    response = client.get("/oembed", {"url": url, "maxwidth": value, "maxheight": value})

    assert response.status_code == 200
    assert (response.json()["width"], response.json()["height"]) == (320, 240)


@pytest.mark.parametrize("route", ["video/{id}.mp4", "poster/{id}.jpg", "download/{id}", "frame/{id}.jpg"])
def test_an_id_too_long_for_the_database_is_not_found(client, shares, route):
    token = shares["tokens"][0]

    response = client.get(f"/share/{token}/" + route.format(id="9" * 20))

    assert response.status_code == 404


@pytest.mark.parametrize("route", ["/share/{t}", "/share/{t}/unlock", "/embed/{t}", "/share/{t}/download"])
def test_a_token_with_a_nul_byte_is_not_found_on_every_database(client, route):
    """PostgreSQL refuses NUL in a text parameter: the token must be refused before any query."""
    path = route.format(t="gallery%00")

    response = client.post(path) if route.endswith("unlock") else client.get(path)

    assert response.status_code == 404
