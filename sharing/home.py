"""The site's front door: `/` says what this site is, `/favicon.ico` finds the icon.

Kept apart from the share views: nothing here looks at a share, so nothing here
can tell a visitor which shares, cameras or videos exist.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "HEAD"])
@cache_control(public=True, max_age=3600)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "sharing/home.html")


@require_http_methods(["GET", "HEAD"])
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers and feed readers ask for /favicon.ico whatever the page links; the
    # icon itself is a hashed static file, served (and cached) by whitenoise.
    return HttpResponseRedirect(static("favicon.svg"))
