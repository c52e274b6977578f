"""Public share routes: the page, the embeddable player, media with Range, downloads, oEmbed.

Every "no" a visitor can get for a token (unknown, inactive, expired, embed or
download off, locked media) is the same 404 body, so responses never tell which
tokens exist. All routes are rate limited per client IP.
"""

from __future__ import annotations

import hashlib
import logging
import re
from functools import wraps
from urllib.parse import urlencode, urlsplit

from csp.constants import SELF
from django.conf import settings
from django.core.cache import caches
from django.core.paginator import Paginator
from django.db.models import Case, Max, Min, When
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from batches.models import BatchSegment, TimelapseImage
from captures import thumbnails
from common import mediastore
from common.paths import media_file, safe_key
from sharing import compare, media, services
from sharing.models import Share
from sharing.serving import file_response, presigned_redirect

log = logging.getLogger(__name__)

UNLOCK_MAX_AGE = 12 * 3600
GALLERY_PAGE_SIZE = 48


def rate_limited(group: str, rate_setting: str):
    """Per-IP limit from settings; past it, 429 (django-ratelimit counts in the shared cache)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
            rate = getattr(settings, rate_setting)
            if is_ratelimited(request, group=group, key="ip", rate=rate, increment=True):
                return HttpResponse(
                    "Too many requests.\n",
                    status=429,
                    content_type="text/plain",
                    headers={"Retry-After": "60"},
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


page_limit = rate_limited("sharing.page", "SHARING_RATE_LIMIT")
media_limit = rate_limited("sharing.media", "SHARING_MEDIA_RATE_LIMIT")
unlock_limit = rate_limited("sharing.unlock", "SHARING_UNLOCK_RATE_LIMIT")


# Share pages run no inline script or style at all: only files from static/, so the
# site-wide nonce sources are dropped from their policy.
STRICT_CSP = {"script-src": [SELF], "style-src": [SELF]}


def strict_csp(response: HttpResponseBase, **replace: list[str]) -> HttpResponseBase:
    response._csp_replace = {**STRICT_CSP, **replace}
    return response


def not_found() -> HttpResponse:
    # One constant body (no token echoed) for every refusal; the site's own 404 page.
    return strict_csp(HttpResponse(render_to_string("404.html"), status=404))


def _is_preview(request: HttpRequest) -> bool:
    """The operator's own look from the admin: staff only, not counted, any state."""
    return request.GET.get("preview") == "1" and request.user.is_authenticated and request.user.is_staff


def _cookie_name(share: Share) -> str:
    return f"tl_share_{share.pk}"


def _salt(share: Share) -> str:
    # The hash is in the salt: changing the password locks out old cookies.
    return f"sharing.unlock:{share.pk}:{share.password_hash}"


def _unlocked(request: HttpRequest, share: Share) -> bool:
    if not services.needs_password(share):
        return True
    value = request.get_signed_cookie(
        _cookie_name(share), default=None, salt=_salt(share), max_age=UNLOCK_MAX_AGE
    )
    return value == str(share.share_token)


def _visible_share(request: HttpRequest, token: str) -> Share | None:
    """The share for a media/download route: live and (if protected) unlocked."""
    preview = _is_preview(request)
    share = services.find_share(token, include_inactive=preview)
    if share is None or not (preview or _unlocked(request, share)):
        return None
    return share


def _video_context(share: Share, items: list[services.Item]) -> list[dict]:
    rows = []
    token = share.token
    for item in items:
        path = services.stream_file(item.batch)
        size = media.video_size(path) if path else None
        renditions = item.batch.published_renditions or {}
        rows.append(
            {
                "item": item,
                "batch": item.batch,
                "title": item.title,
                "video_url": reverse("sharing:video", args=[token, item.pk]),
                "av1_url": reverse("sharing:video_av1", args=[token, item.pk])
                if "av1" in renditions
                else None,
                "previews_url": reverse("sharing:previews_vtt", args=[token, item.pk])
                if "vtt" in renditions
                else None,
                "poster_url": reverse("sharing:poster", args=[token, item.pk]),
                "download_url": reverse("sharing:download_item", args=[token, item.pk]),
                "width": size[0] if size else None,
                "height": size[1] if size else None,
            }
        )
    return rows


def _date_ranges(items: list[services.Item]) -> dict[int, dict]:
    ids = [item.batch.pk for item in items]
    rows = (
        TimelapseImage.objects.filter(timelapse_batch_id__in=ids)
        .values("timelapse_batch_id")
        .annotate(first=Min("image__captured_at"), last=Max("image__captured_at"))
    )
    ranges = {row["timelapse_batch_id"]: row for row in rows}
    # A period video's days are its kept segments: its frames are only the images still to
    # encode, and the cleanup may have removed the images of its early days.
    segments = (
        BatchSegment.objects.filter(batch_id__in=ids)
        .values("batch_id")
        .annotate(first=Min("local_date"), last=Max("local_date"))
    )
    ranges.update({row["batch_id"]: row for row in segments})
    return ranges


def _gallery(request: HttpRequest, share: Share, items: list[services.Item]):
    ids = [item.batch.pk for item in items]
    order = Case(*(When(timelapse_batch_id=pk, then=i) for i, pk in enumerate(ids)), default=len(ids))
    frames = (
        TimelapseImage.objects.filter(timelapse_batch_id__in=ids)
        .select_related("image")
        .order_by(order, "sequence_order")
    )
    page = Paginator(frames, GALLERY_PAGE_SIZE).get_page(request.GET.get("page"))
    return page


def _meta(request: HttpRequest, share: Share, videos: list[dict], *, locked: bool) -> dict:
    """Open Graph / Twitter / oEmbed data; a locked share exposes no video or poster URL."""
    page_url = services.absolute_url(reverse("sharing:page", args=[share.token]), request)
    meta = {"url": page_url, "title": share.title, "description": share.description or ""}
    if locked or not videos:
        return meta
    first = videos[0]
    meta.update(
        image=services.absolute_url(first["poster_url"], request),
        video=services.absolute_url(first["video_url"], request),
        width=first["width"],
        height=first["height"],
    )
    if share.embed_enabled:
        meta["player"] = services.absolute_url(reverse("sharing:embed", args=[share.token]), request)
        query = urlencode({"format": "json", "url": page_url})
        meta["oembed"] = services.absolute_url(reverse("sharing:oembed"), request) + "?" + query
    return meta


def _render_page(request: HttpRequest, share: Share) -> HttpResponse:
    """The whole page, rendered from the database: videos, their facts, gallery frames, unfurls."""
    theme = services.theme_of(share)
    items = services.page_items(share)
    videos = _video_context(share, items)
    body = f"sharing/page_{share.share_type}_body.html"
    context = {"share": share, "theme": theme, "videos": videos, "body_template": body}
    if share.share_type == Share.ShareType.INFO_PAGE and theme.options["show_date_range"]:
        ranges = _date_ranges(items)
        for video in videos:
            video["dates"] = ranges.get(video["batch"].pk)
    if share.share_type == Share.ShareType.GALLERY:
        context["frames"] = _gallery(request, share, items)
    context["compare"] = compare.pick(share, items, theme)
    context["meta"] = _meta(request, share, videos, locked=services.needs_password(share))
    return render(request, "sharing/page.html", context)


def _cached_page(request: HttpRequest, token: str, view: services.PageView) -> HttpResponse:
    """The page from this process's cache, keyed by everything it shows.

    The key is a hash of services.view_share's content text (the share, its look, its
    links and the batch each plays now), so an edit or a new render changes the key
    and the next request renders afresh: nothing is ever invalidated by hand. The page
    has no per-request part (no CSP nonce: it runs only static files).
    """
    share = view.share
    page_number = request.GET.get("page", "1") if share.share_type == Share.ShareType.GALLERY else ""
    pages = caches[settings.SHARING_PAGE_CACHE]
    body = pages.get(_page_key(request, share.pk, view.content, page_number))
    if body is not None:
        response = HttpResponse(body)
    else:
        # The page and the key it is stored under come from one snapshot, so a page is
        # never stored under the key of an older state of the rows it was made from.
        with services.snapshot():
            content = services.page_content_version(share.pk)
            fresh = services.find_share(token)
            if fresh is None or content is None:
                return not_found()
            response = _render_page(request, fresh)
        key = _page_key(request, share.pk, content, page_number)
        pages.set(key, response.content, settings.SHARING_PAGE_CACHE_SECONDS)
    response["Cache-Control"] = "private, no-cache"
    return strict_csp(response)


def _page_key(request: HttpRequest, share_pk: int, content: str, page_number: str) -> str:
    # The site's address is in the page (unfurl links): one copy per address it is reached at.
    digest = hashlib.sha256(f"{services.absolute_url('/', request)}\n{content}".encode()).hexdigest()
    return f"sharing:page:{share_pk}:{page_number}:{digest}"


@page_limit
@require_http_methods(["GET", "HEAD"])
def page(request: HttpRequest, token: str) -> HttpResponse:
    if _is_preview(request):
        # The operator's look from the admin: any state, not counted, never cached.
        share = services.find_share(token, include_inactive=True)
        return strict_csp(_render_page(request, share)) if share else not_found()
    # One statement finds the live share and counts the view (not for HEAD).
    view = services.view_share(token, count=request.method == "GET")
    if view is None:
        return not_found()
    if view.locked:
        if not _unlocked(request, view.share):
            share = services.find_share(token)
            if share is None:
                return not_found()
            theme = services.theme_of(share)
            meta = _meta(request, share, [], locked=True)
            context = {"share": share, "theme": theme, "meta": meta}
            return strict_csp(render(request, "sharing/unlock.html", context))
        if request.method == "GET":
            services.count_view(view.share)
    return _cached_page(request, token, view)


@unlock_limit
@require_POST
@csrf_protect
def unlock(request: HttpRequest, token: str) -> HttpResponse:
    share = services.find_share(token)
    if share is None:
        return not_found()
    page_url = reverse("sharing:page", args=[share.token])
    if not services.needs_password(share):
        return HttpResponseRedirect(page_url)
    if not services.password_matches(share, request.POST.get("password", "")):
        theme = services.theme_of(share)
        context = {
            "share": share,
            "theme": theme,
            "meta": _meta(request, share, [], locked=True),
            "error": True,
        }
        return strict_csp(render(request, "sharing/unlock.html", context, status=401))
    response = HttpResponseRedirect(page_url)
    response.set_signed_cookie(
        _cookie_name(share),
        str(share.share_token),
        salt=_salt(share),
        max_age=UNLOCK_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


@page_limit
@require_http_methods(["GET", "HEAD"])
@xframe_options_exempt
def embed(request: HttpRequest, token: str) -> HttpResponse:
    share = services.find_share(token)
    if share is None or not share.embed_enabled:
        return not_found()
    locked = not _unlocked(request, share)
    items = [] if locked else services.page_items(share)
    videos = _video_context(share, items)
    context = {
        "share": share,
        "theme": services.theme_of(share),
        "videos": videos[:1],
        "locked": locked,
        "page_url": services.absolute_url(reverse("sharing:page", args=[share.token]), request),
    }
    # A HEAD (a link checker, an unfurler probing) is not a view, as on the page.
    if not locked and request.method == "GET":
        services.count_view(share)
    response = render(request, "sharing/embed.html", context)
    domains = [d for d in share.embed_allowed_domains or [] if services.is_valid_embed_source(d)]
    # Replace the site-wide frame-ancestors 'none' for this response only.
    return strict_csp(response, **{"frame-ancestors": domains or ["*"]})


def _serve_video(
    request: HttpRequest, token: str, item_pk: int | None, *, download: bool
) -> HttpResponseBase:
    share = _visible_share(request, token)
    if share is None or (download and not share.download_enabled):
        return not_found()
    item = services.find_item(share, item_pk)
    name = f"{item.title}.mp4" if item and download else None
    if mediastore.remote():
        return _bucket_redirect(item, name, download=download)
    # Downloads get the full resolution; the player streams the web rendition.
    path = (services.output_file if download else services.stream_file)(item.batch) if item else None
    if path is None:
        return not_found()
    return file_response(request, path, "video/mp4", download_name=name)


def _bucket_redirect(item: services.Item | None, name: str | None, *, download: bool) -> HttpResponseBase:
    """Media in a bucket: send the player to a short-lived presigned URL, which does Range itself.

    The share was checked above; the URL expires in minutes (a player that pauses
    longer asks this view again and gets a fresh one). Never cached: a stale
    redirect would outlive its signature.
    """
    # Downloads get the full resolution; the player streams the web rendition, as on disk.
    key = None
    if item:
        key = safe_key(item.batch.published_path) if download else services.stream_key(item.batch)
    return _presigned_redirect(key, name, "video/mp4")


def _presigned_redirect(key: mediastore.MediaKey | None, name: str | None, kind: str) -> HttpResponseBase:
    response = presigned_redirect(key, kind, download_name=name)
    return not_found() if response is None else response


@media_limit
@require_http_methods(["GET", "HEAD"])
def video(request: HttpRequest, token: str, item: int) -> HttpResponseBase:
    return _serve_video(request, token, item, download=False)


@media_limit
@require_http_methods(["GET", "HEAD"])
def download(request: HttpRequest, token: str, item: int | None = None) -> HttpResponseBase:
    return _serve_video(request, token, item, download=True)


@media_limit
@require_http_methods(["GET", "HEAD"])
def poster(request: HttpRequest, token: str, item: int) -> HttpResponseBase:
    share = _visible_share(request, token)
    found = services.find_item(share, item) if share else None
    if mediastore.remote():
        image = _bucket_poster(found)
    else:
        # The render's own poster; videos published before renditions existed get one made from the file.
        image = services.rendition_file(found.batch, "poster") if found else None
        path = services.output_file(found.batch) if found and not image else None
        image = image or (media.poster(path, found.batch.pk) if path else None)
    if image is None:
        return not_found()
    return file_response(request, image, "image/jpeg")


def _bucket_poster(found: services.Item | None):
    key = safe_key(found.batch.published_path) if found else None
    try:
        if key is None or mediastore.size(key) is None:
            return None
        return media.bucket_poster(key, lambda: mediastore.presigned_url(key), found.batch.pk)
    except mediastore.MediaStoreError as exc:
        log.warning("share poster: %s", exc)
        return None


def _share_frame(request: HttpRequest, token: str, image_id: int):
    share = _visible_share(request, token)
    if share is None or share.share_type != Share.ShareType.GALLERY:
        return None
    frame = (
        TimelapseImage.objects.filter(timelapse_batch__share_links__share=share, image_id=image_id)
        .select_related("image")
        .first()
    )
    if frame is None:
        return None
    # With media in a bucket: the guard's key instead of a file (frame_full redirects).
    where = safe_key(frame.image.file_path) if mediastore.remote() else media_file(frame.image.file_path)
    return (frame.image, where) if where else None


@media_limit
@require_http_methods(["GET", "HEAD"])
def frame_thumb(request: HttpRequest, token: str, image: int) -> HttpResponseBase:
    found = _share_frame(request, token, image)
    if found is None:
        return not_found()
    try:
        thumb = thumbnails.thumbnail_file(found[0], thumbnails.GALLERY)
    except thumbnails.ThumbnailUnavailable:
        return not_found()
    return file_response(request, thumb, "image/jpeg", cache_control="private, max-age=3600")


@media_limit
@require_http_methods(["GET", "HEAD"])
def frame_full(request: HttpRequest, token: str, image: int) -> HttpResponseBase:
    found = _share_frame(request, token, image)
    if found is None:
        return not_found()
    kind = "image/png" if str(found[1]).lower().endswith(".png") else "image/jpeg"
    if isinstance(found[1], mediastore.MediaKey):
        return _presigned_redirect(found[1], None, kind)
    return file_response(request, found[1], kind, cache_control="private, max-age=3600")


# Before/after pictures: big enough for a full-width page, a fraction of a 4K frame.
COMPARE_SIZE = (1600, 1600)


@media_limit
@require_http_methods(["GET", "HEAD"])
def compare_image(request: HttpRequest, token: str, side: str) -> HttpResponseBase:
    """One side of the page's before/after, picked exactly as the page picks it."""
    share = _visible_share(request, token)
    theme = services.theme_of(share) if share else None
    sides = compare.pick(share, services.page_items(share), theme) if share else None
    found = next((s for s in sides or [] if s.name == side), None)
    if found is None:
        return not_found()
    try:
        picture = thumbnails.thumbnail_file(found.image, COMPARE_SIZE)
    except thumbnails.ThumbnailUnavailable:
        return not_found()
    return file_response(request, picture, "image/jpeg", cache_control="private, max-age=300")


_HEX = re.compile(r"[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")


@media_limit
@require_http_methods(["GET", "HEAD"])
def theme_css(request: HttpRequest, color: str) -> HttpResponse:
    """A share's colour as a stylesheet, so its pages need no inline style (a strict CSP).

    Keyed by the colour alone: nothing about any share, cacheable for good.
    """
    if not _HEX.fullmatch(color):
        return not_found()
    response = HttpResponse(f":root {{ --primary: #{color}; }}\n", content_type="text/css")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


_SHARE_PATH = re.compile(r"/(?:share|embed)/([A-Za-z0-9_-]+)/?")


def _fit(width: int, height: int, max_width: int | None, max_height: int | None) -> tuple[int, int]:
    scale = 1.0
    if max_width and width > max_width:
        scale = min(scale, max_width / width)
    if max_height and height > max_height:
        scale = min(scale, max_height / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _positive_int(value: str | None) -> int | None:
    """maxwidth/maxheight: ASCII digits only (str.isdigit() takes "²", which int() refuses)."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > 6:
        return None
    return int(value) or None


@page_limit
@require_GET
@never_cache
def oembed(request: HttpRequest) -> HttpResponse:
    """oEmbed 1.0 provider: type "video" JSON for embeddable shares (spec section 2.3)."""
    if request.GET.get("format", "json") != "json":
        return HttpResponse("Only format=json is supported.\n", status=501, content_type="text/plain")
    url = urlsplit(request.GET.get("url", ""))
    match = _SHARE_PATH.fullmatch(url.path)
    if not match or url.netloc != urlsplit(services.absolute_url("/", request)).netloc:
        return JsonResponse({"error": "not found"}, status=404)
    share = services.find_share(match.group(1))
    if share is None or not share.embed_enabled:
        return JsonResponse({"error": "not found"}, status=404)
    if services.needs_password(share):
        return JsonResponse({"error": "unauthorized"}, status=401)
    item = services.find_item(share, None)
    path = services.output_file(item.batch) if item else None
    size = (media.video_size(path) if path else None) or (640, 360)
    width, height = _fit(
        *size, _positive_int(request.GET.get("maxwidth")), _positive_int(request.GET.get("maxheight"))
    )
    embed_url = services.absolute_url(reverse("sharing:embed", args=[share.token]), request)
    html = render_to_string(
        "sharing/oembed_iframe.html",
        {"src": embed_url, "width": width, "height": height, "title": share.title},
    )
    data = {
        "version": "1.0",
        "type": "video",
        "provider_name": "Timelapser",
        "provider_url": services.absolute_url("/", request),
        "title": share.title,
        "html": html.strip(),
        "width": width,
        "height": height,
    }
    if item:
        data.update(
            thumbnail_url=services.absolute_url(
                reverse("sharing:poster", args=[share.token, item.pk]), request
            ),
            thumbnail_width=size[0],
            thumbnail_height=size[1],
        )
    return JsonResponse(data)
