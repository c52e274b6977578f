"""Share rules that span models: finding a live share, what its page shows, creating shares.

Views stay thin: they ask `find_share` for the share and `page_items` for the
videos, and every query a page needs happens here, a fixed number per page.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from uuid import UUID

from django.contrib.auth.hashers import check_password, make_password
from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from batches.models import TimelapseBatch
from common import mediastore, siteurl
from common.paths import media_file, safe_key
from sharing.models import Share, ShareBatch, ShareCustomization, default_display_options

# Strict: only #rgb or #rrggbb reaches the page's <style>; anything else falls back.
_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
DEFAULT_COLOR = "#007bff"
THEMES = ("light", "dark")
LAYOUTS = ("grid", "list")
# A host for CSP frame-ancestors: optional scheme, optional "*." wildcard, optional port.
# Nothing else (no spaces, quotes or semicolons) so a value can never add a directive.
_EMBED_SOURCE = re.compile(
    r"(?:https?://)?(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?::\d{1,5})?",
    re.IGNORECASE,
)


def safe_color(value: object) -> str:
    return value if isinstance(value, str) and _COLOR.fullmatch(value) else DEFAULT_COLOR


def is_valid_embed_source(value: object) -> bool:
    return isinstance(value, str) and bool(_EMBED_SOURCE.fullmatch(value))


_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}")  # what Share.slug (a SlugField) can hold


def _token_lookup(token: str) -> tuple[str, UUID | str] | None:
    """("share_token", uuid) or ("slug", text) for a URL token; None if it can be neither.

    Checked before any query: PostgreSQL refuses a NUL in a text parameter with an
    error (a 500), and no slug holds one anyway.
    """
    try:
        return "share_token", UUID(token)
    except ValueError:
        return ("slug", token) if _SLUG.fullmatch(token) else None


def find_share(token: str, *, include_inactive: bool = False) -> Share | None:
    """The live share a URL token names (UUID or vanity slug), or None.

    None covers unknown, inactive and expired alike so callers answer the same 404.
    """
    lookup = _token_lookup(token)
    if lookup is None:
        return None
    column, value = lookup
    shares = Share.objects.all() if include_inactive else Share.objects.live()
    shares = shares.select_related("customization")
    try:
        return shares.get(**{column: value})
    except Share.DoesNotExist:
        return None


@dataclass(frozen=True)
class Theme:
    primary_color: str
    theme: str
    layout: str
    options: dict
    # Before/after on an info page (sharing.compare); dates None: the first and last day.
    before_after: bool = False
    before_date: date | None = None
    after_date: date | None = None


def parse_day(value: object) -> date | None:
    """An ISO date from the customization JSON, or None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def theme_of(share: Share) -> Theme:
    """Validated look of a share page; unknown or hostile values fall back to defaults."""
    try:
        custom = share.customization
    except ShareCustomization.DoesNotExist:
        custom = None
    return theme_of_customization(custom)


def theme_of_customization(custom: ShareCustomization | None) -> Theme:
    config = custom.theme_config if custom and isinstance(custom.theme_config, dict) else {}
    options = default_display_options()
    display = custom.display_options if custom and isinstance(custom.display_options, dict) else {}
    options.update({k: bool(v) for k, v in display.items() if k.startswith("show_")})
    layout = display.get("layout")
    theme = config.get("theme")
    return Theme(
        primary_color=safe_color(config.get("primary_color")),
        theme=theme if theme in THEMES else "light",
        layout=layout if layout in LAYOUTS else "grid",
        options=options,
        before_after=display.get("before_after") is True,
        before_date=parse_day(display.get("before_date")),
        after_date=parse_day(display.get("after_date")),
    )


@dataclass
class Item:
    """One video of a share page: the link row and the batch it shows now."""

    link: ShareBatch
    batch: TimelapseBatch

    @property
    def pk(self) -> int:
        return self.link.pk

    @property
    def title(self) -> str:
        return self.link.custom_title or self.link.share.title


def page_items(share: Share) -> list[Item]:
    """The share's playable videos in display order, in two queries whatever their number.

    Only the published_* fields decide, never the status: a batch that is
    pending, processing, failed or retried keeps playing the last video it
    published. A link to a continuous batch shows the camera's newest published
    continuous video, so a shared "latest" link never goes stale.
    """
    latest = (
        TimelapseBatch.objects.filter(
            camera=OuterRef("timelapse_batch__camera"),
            batch_type=TimelapseBatch.BatchType.CONTINUOUS,
            published_path__isnull=False,
        )
        .order_by("-published_at", "-pk")
        .values("pk")[:1]
    )
    links = list(
        ShareBatch.objects.filter(share=share)
        .select_related("timelapse_batch__camera")
        .annotate(latest_pk=Subquery(latest))
        .order_by("display_order", "pk")
    )
    wanted = {link.latest_pk for link in links if _is_continuous(link) and link.latest_pk}
    newest = TimelapseBatch.objects.select_related("camera").in_bulk(wanted) if wanted else {}
    items = []
    for link in links:
        link.share = share  # avoid a query per item for the title fallback
        batch = link.timelapse_batch
        if _is_continuous(link) and link.latest_pk in newest:
            batch = newest[link.latest_pk]
        if batch.is_published:
            items.append(Item(link=link, batch=batch))
    return items


def _is_continuous(link: ShareBatch) -> bool:
    return link.timelapse_batch.batch_type == TimelapseBatch.BatchType.CONTINUOUS


def find_item(share: Share, item_pk: int | None) -> Item | None:
    """One video of the share (the first when item_pk is None)."""
    items = page_items(share)
    if item_pk is None:
        return items[0] if items else None
    return next((item for item in items if item.pk == item_pk), None)


# What a page shows, as one JSON text: the share's own fields, its look, its links and the
# batch each link plays now (a continuous link: the camera's newest published video). Any
# change to these rows changes the text, and with it the page's cache key
# (sharing.views._cached_page). The batch columns are those the page templates show: the
# published video's, never the current attempt's (status), so a render starting, failing
# or being retried leaves the page, and its cached copy, as they are.
_BATCH_COLUMNS = (
    "id", "batch_type", "published_path", "published_at", "published_size_bytes", "published_frames",
    "published_day_range_start", "published_day_range_end", "frame_rate",
)  # fmt: skip
# needs_password() in SQL: a locked share's page view is counted after unlock, not here.
_LOCKED = "(shares.access_type = 'password' AND COALESCE(shares.password_hash, '') <> '')"


def _content_sql(vendor: str) -> str:
    if vendor == "postgresql":
        array, agg, order = "json_build_array", "json_agg", " ORDER BY sb.id"
    else:  # SQLite has no ORDER BY in aggregates before 3.44; order only helps the hit rate
        array, agg, order = "json_array", "json_group_array", ""

    def batch(alias: str) -> str:
        return f"{array}({', '.join(f'{alias}.{column}' for column in _BATCH_COLUMNS)})"

    newest = (
        f"SELECT {batch('n')} FROM timelapse_batches n"
        " WHERE b.batch_type = 'continuous' AND n.camera_id = b.camera_id"
        " AND n.batch_type = 'continuous' AND n.published_path IS NOT NULL"
        " ORDER BY n.published_at DESC, n.id DESC LIMIT 1"
    )
    camera = "SELECT cam.name FROM cameras cam WHERE cam.id = b.camera_id"
    # Scalar subqueries rather than joins: PostgreSQL plans them in about half the time,
    # and planning is most of this statement's cost (it runs unprepared on every view).
    link = (
        f"SELECT {array}(sb.id, sb.display_order, sb.custom_title, sb.show_metadata, ({camera}),"
        f" {batch('b')}, ({newest})) FROM timelapse_batches b WHERE b.id = sb.timelapse_batch_id"
    )
    links = f"SELECT {agg}(({link}){order}) FROM share_batches sb WHERE sb.share_id = shares.id"
    look = f"SELECT {array}(c.theme_config, c.display_options) FROM share_customization c WHERE c.share_id = shares.id"
    # CAST: PostgreSQL would hand psycopg json to parse; a key only needs the text.
    return (
        f"CAST({array}(shares.share_token, shares.slug, shares.title, shares.description, shares.share_type,"
        f" shares.download_enabled, shares.embed_enabled, {_LOCKED}, ({look}), ({links})) AS TEXT)"
    )


@dataclass(frozen=True)
class PageView:
    """What one public page request learned in its single statement (see view_share)."""

    share: Share  # only id, share_token, share_type, access_type and password_hash are loaded
    content: str  # _content_sql's text: equal text, equal page

    @property
    def locked(self) -> bool:
        """A password share: its statement did not count the view (see view_share)."""
        return needs_password(self.share)


# In the model's field order: Model.from_db pairs a partial row with the fields that way.
_VIEW_FIELDS = ("id", "share_token", "share_type", "access_type", "password_hash")


def view_share(token: str, *, count: bool = True) -> PageView | None:
    """Find the live share a token names and count the view, in one statement.

    UPDATE ... RETURNING checks the token (UUID or slug), is_active and expires_at,
    adds one to view_count atomically (not for a locked share: see count_view) and
    returns what the page needs to decide, so a page view is one database round
    trip. None, like find_share, for unknown, inactive and expired alike.
    """
    field = Share._meta.get_field("share_token")
    lookup = _token_lookup(token)
    if lookup is None:
        return None
    column, value = lookup
    if column == "share_token":
        value = field.get_db_prep_value(value, connection)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = _view_sql(connection.vendor, column)
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, value, now])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row[:-1])
    values[1] = field.to_python(values[1])  # SQLite returns the UUID as hex text
    return PageView(share=Share.from_db(connection.alias, _VIEW_FIELDS, values), content=row[-1])


@functools.cache
def _view_sql(vendor: str, column: str) -> str:
    # PostgreSQL: a view count is not worth a disk flush on every page view. A crash may
    # lose the last few counts, never corrupt them (still WAL-logged). set_config(...,
    # true) is SET LOCAL inside the statement's own transaction.
    no_flush = (
        " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush"
        if vendor == "postgresql"
        else ""
    )
    returning = ", ".join(f"shares.{name}" for name in _VIEW_FIELDS)
    return (
        f"UPDATE shares SET view_count = view_count + (CASE WHEN %s AND NOT {_LOCKED} THEN 1 ELSE 0 END){no_flush}"
        f" WHERE shares.{column} = %s AND shares.is_active AND (shares.expires_at IS NULL OR shares.expires_at > %s)"
        f" RETURNING {returning}, {_content_sql(vendor)}"
    )


@contextmanager
def snapshot():
    """A transaction whose queries all see one state of the database.

    PostgreSQL's default (READ COMMITTED) gives each statement its own snapshot;
    REPEATABLE READ gives the whole transaction one. A SQLite transaction already
    reads one snapshot.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def page_content_version(share_id: int) -> str | None:
    """_content_sql's text for a share, read on its own (inside the caller's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_content_sql(connection.vendor)} FROM shares WHERE id = %s", [share_id])
        row = cursor.fetchone()
    return row[0] if row else None


def count_view(share: Share) -> None:
    # F() makes the increment atomic: two simultaneous views both count.
    views = Share.objects.filter(pk=share.pk)
    if connection.vendor != "postgresql":
        views.update(view_count=F("view_count") + 1)
        return
    with transaction.atomic():
        # A view count is not worth waiting for a disk flush on every page view: a
        # crash may lose the last few counts, never corrupt them (still WAL-logged).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        views.update(view_count=F("view_count") + 1)


# A share's page may be guessed at from anywhere (10 tries a minute per address): short
# passwords fall to that in days.
SHARE_PASSWORD_MIN_LENGTH = 8


def password_problem(raw_password: str) -> str | None:
    """Why this would be a poor share password, or None; the admin form and set_password ask."""
    if len(raw_password) < SHARE_PASSWORD_MIN_LENGTH:
        return f"A share password needs at least {SHARE_PASSWORD_MIN_LENGTH} characters."
    return None


def set_password(share: Share, raw_password: str | None) -> None:
    """Hash a password onto the share (None or empty removes it); ValueError if it is too short."""
    if raw_password:
        problem = password_problem(raw_password)
        if problem:
            raise ValueError(problem)
        share.password_hash = make_password(raw_password)
        share.access_type = Share.AccessType.PASSWORD
    else:
        share.password_hash = None
        share.access_type = Share.AccessType.PUBLIC


def password_matches(share: Share, raw_password: str) -> bool:
    return bool(share.password_hash) and check_password(raw_password, share.password_hash)


def needs_password(share: Share) -> bool:
    return share.access_type == Share.AccessType.PASSWORD and bool(share.password_hash)


def create_share(
    batches: Iterable[TimelapseBatch],
    title: str,
    *,
    share_type: str = Share.ShareType.VIDEO_ONLY,
    description: str | None = None,
    download_enabled: bool = False,
    embed_enabled: bool = False,
    expires_at: datetime | None = None,
    slug: str | None = None,
    password: str | None = None,
    embed_allowed_domains: list[str] | None = None,
    creator_name: str | None = None,
    is_active: bool = True,
) -> Share:
    """Create a share of the batches, in the order given, with its customization row."""
    batches = list(batches)
    if not batches:
        raise ValueError("a share needs at least one batch")
    if share_type not in Share.ShareType.values:
        raise ValueError(f"unknown share type {share_type!r}")
    domains = list(embed_allowed_domains or [])
    bad = [d for d in domains if not is_valid_embed_source(d)]
    if bad:
        raise ValueError(f"not a valid embed domain: {bad[0]!r}")
    if expires_at is not None and timezone.is_naive(expires_at):
        raise ValueError("expires_at needs a time zone")
    share = Share(
        title=title,
        description=description,
        share_type=share_type,
        download_enabled=download_enabled,
        embed_enabled=embed_enabled,
        expires_at=expires_at,
        slug=slug or None,
        embed_allowed_domains=domains,
        creator_name=creator_name,
        is_active=is_active,
    )
    set_password(share, password)
    with transaction.atomic():
        share.full_clean(exclude=["password_hash"])
        share.save()
        ShareCustomization.objects.create(share=share)
        ShareBatch.objects.bulk_create(
            ShareBatch(share=share, timelapse_batch=batch, display_order=order)
            for order, batch in enumerate(batches, start=1)
        )
    return share


def absolute_url(path: str, request=None) -> str:
    """An absolute URL on the public site, for unfurls and oEmbed (the rule: common.siteurl)."""
    return siteurl.absolute_url(path, request)


def output_file(batch: TimelapseBatch) -> Path | None:
    """The batch's published video inside the media folders, or None."""
    return media_file(batch.published_path)


def rendition_file(batch: TimelapseBatch, role: str) -> Path | None:
    """A published rendition's file ("web", "av1", "poster", "sprite", "vtt"), through the path guard.

    The renditions switch with published_path in one UPDATE (batches.lifecycle.complete),
    so they always belong to the video the page plays.
    """
    value = (batch.published_renditions or {}).get(role)
    return media_file(value["path"] if isinstance(value, dict) else value)


def rendition_key(batch: TimelapseBatch, role: str) -> mediastore.MediaKey | None:
    """The bucket key of a published rendition (media in a bucket), through the same guard."""
    value = (batch.published_renditions or {}).get(role)
    return safe_key(value["path"] if isinstance(value, dict) else value)


def stream_key(batch: TimelapseBatch) -> mediastore.MediaKey | None:
    """What the share player streams from a bucket: the web rendition, else the full video."""
    return rendition_key(batch, "web") or safe_key(batch.published_path)


def stream_file(batch: TimelapseBatch) -> Path | None:
    """What the share player streams: the <= 1080p web rendition, else the full video (it fits)."""
    return rendition_file(batch, "web") or output_file(batch)
