"""The one rule for absolute links (unfurls, oEmbed, copy-link buttons, printed URLs).

TIMELAPSER_SITE_URL when the operator set it (a proxy, HTTPS, a public name);
otherwise the address the app is really reached at: the request's own scheme
and host for pages, and BIND (what gunicorn listens on, as in the Procfile) for
commands, which have no request. A fixed default would print :8000 links for an
app served on :8100.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

# Listening on every interface is not an address to visit; the local one is.
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "[::]": "localhost", "": "127.0.0.1"}


def site_url(request: HttpRequest | None = None) -> str:
    """Scheme and host, no trailing slash: https://timelapse.example.org or http://127.0.0.1:8100."""
    if settings.SITE_URL:
        return settings.SITE_URL
    if request is not None:
        # get_host() checks ALLOWED_HOSTS: a forged Host header is a 400, never a link.
        return f"{request.scheme}://{request.get_host()}"
    host, _, port = settings.BIND.rpartition(":")
    return f"http://{_ANY_ADDRESS.get(host, host)}:{port}"


def absolute_url(path: str, request: HttpRequest | None = None) -> str:
    """`path` (from reverse(), starting with /) on the site's address."""
    return site_url(request) + path


def browser_url(path: str) -> str:
    """A link the operator's browser completes itself (the admin's copy buttons).

    The admin page is open at the address the app is reached at, so a relative
    path resolved against it is the request-host rule of site_url; with
    TIMELAPSER_SITE_URL set, that address wins as everywhere else.
    """
    return settings.SITE_URL + path if settings.SITE_URL else path
