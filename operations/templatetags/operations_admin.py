"""Template tags for the admin pages: the disk-low banner and the index's everyday/advanced split."""

from __future__ import annotations

from django import template

from common import mediastore
from operations.disk import disk_status

register = template.Library()


@register.inclusion_tag("operations/disk_banner.html", takes_context=True)
def disk_banner(context) -> dict:
    """Only staff see it, and only they pay for the disk check."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not (user and user.is_active and user.is_staff):
        return {"disk": None}
    return {"disk": disk_status(), "bucket": mediastore.remote()}


# What operators use every day, in the order of the work: camera -> images -> timelapses -> shares.
EVERYDAY_APPS = ("cameras", "captures", "batches", "sharing", "operations")


@register.simple_tag
def split_app_list(app_list: list[dict]) -> dict[str, list[dict]]:
    """The admin index's apps as {"everyday": [...], "advanced": [...]}.

    Login records (axes), users and the periodic-task tables are for the person who runs
    the server, not for filming a site: they go under "Advanced", still one click away.
    """
    everyday = sorted(
        (app for app in app_list if app["app_label"] in EVERYDAY_APPS),
        key=lambda app: EVERYDAY_APPS.index(app["app_label"]),
    )
    advanced = [app for app in app_list if app["app_label"] not in EVERYDAY_APPS]
    return {"everyday": everyday, "advanced": advanced}
