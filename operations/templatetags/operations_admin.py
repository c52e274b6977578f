"""Template tags for the admin pages: the disk-low banner."""

from __future__ import annotations

from django import template

from operations.disk import disk_status

register = template.Library()


@register.inclusion_tag("operations/disk_banner.html", takes_context=True)
def disk_banner(context) -> dict:
    """Only staff see it, and only they pay for the disk check."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not (user and user.is_active and user.is_staff):
        return {"disk": None}
    return {"disk": disk_status()}
