"""Which addresses a camera may be at: one rule, checked when a URL is saved and at every connection.

Cameras live on private LANs, so private ranges are allowed. Link-local addresses are
not (169.254.169.254 is the cloud metadata service, which hands this host's cloud
credentials to whoever asks), nor is loopback (this server's own Redis, PostgreSQL,
admin), unless a setting allows them. A host name is judged by every address it
resolves to, and again right before each connection, because DNS can change between
the two (rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

LINK_LOCAL_REFUSED = (
    "The camera's address is link-local (169.254.0.0/16 or fe80::/10, where cloud metadata "
    "services answer); set TIMELAPSER_CAMERA_ALLOW_LINK_LOCAL=1 if the camera really is there."
)
LOOPBACK_REFUSED = (
    "The camera's address is this server itself (loopback); "
    "set TIMELAPSER_CAMERA_ALLOW_LOOPBACK=1 if the camera really is there."
)


class AddressRefused(Exception):
    """The camera's host is at an address the policy refuses; the message names no address."""


def refusal(address: str) -> str | None:
    """Why a camera may not be at `address` (an IP literal), or None if it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:169.254.169.254 reaches 169.254.169.254
    if ip.is_link_local and not settings.TIMELAPSER_CAMERA_ALLOW_LINK_LOCAL:
        return LINK_LOCAL_REFUSED
    # Connecting to 0.0.0.0 or :: reaches this machine too.
    if (ip.is_loopback or ip.is_unspecified) and not settings.TIMELAPSER_CAMERA_ALLOW_LOOPBACK:
        return LOOPBACK_REFUSED
    return None


def allowed_addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in resolver order; AddressRefused if any is refused.

    One refused address refuses the host: a name that resolves to a LAN camera and to
    the metadata service is not a camera. socket.gaierror when it does not resolve.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        reason = refusal(address)
        if reason:
            raise AddressRefused(reason)
    return addresses


def check_url(url: str) -> None:
    """AddressRefused if the URL's host is at a refused address (at save time).

    A name that does not resolve here is let through: it may resolve only where the
    workers run, and every connection checks it again.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        return
    try:
        allowed_addresses(parts.hostname, parts.port or 0)
    except (OSError, UnicodeError):
        return
