"""The httpx transport for camera requests: it connects only to addresses cameras.network allows.

The address is checked on the socket's own connection, not in a look-up before it:
the host is resolved once, every address is judged, and the connection goes to a
judged address. A name that resolves to a LAN camera for the check and to
169.254.169.254 a moment later (DNS rebinding) cannot slip between the two. TLS still
verifies the certificate against the host name (httpcore passes it as SNI).
"""

from __future__ import annotations

import socket
import ssl

import httpcore
import httpx

from cameras import network


class CheckedBackend(httpcore.SyncBackend):
    """httpcore's sync backend, connecting only to addresses cameras.network allows."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = network.allowed_addresses(host, port)
        except (socket.gaierror, UnicodeError):
            # Worded like httpcore's own resolver error, so the DNS message is chosen.
            raise httpcore.ConnectError("name resolution failed") from None
        failure: Exception = httpcore.ConnectError("no address")
        for address in addresses:  # like socket.create_connection: the first that answers
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure


class CheckedTransport(httpx.HTTPTransport):
    """httpx.HTTPTransport whose connection pool connects through a CheckedBackend.

    httpx has no parameter for a network backend, so this builds the pool httpx would
    (no proxy, HTTP/1.1) with ours; HTTPTransport's methods use nothing but `_pool`
    (httpx 0.28). Its __init__ is skipped: it would load the CA bundle for a pool
    thrown away at once.
    """

    def __init__(
        self,
        *,
        verify: bool | ssl.SSLContext,
        limits: httpx.Limits,
        backend: CheckedBackend | None = None,
    ) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend or CheckedBackend(),
        )
