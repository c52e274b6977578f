"""A lean PutObject for the capture path: a signed PUT over one kept-alive connection per thread.

botocore's put_object costs ~2 ms of CPU per call here, most of it its generic machinery
(event hooks, endpoint rules, parameter validation, response parsing), which a captured
image does not need (bench/s3_put.py: ~0.8 ms this way). The request is the one S3 would
get from botocore: signed by botocore's own SigV4 signer with the storage's own credentials,
the body's SHA-256 inside the signature (so the bucket checks every byte). Anything but a
plain 200 returns False and the caller does the PUT again through botocore, which owns
retries, region redirects and the error codes; a refusal botocore then gets past (a 4xx
here, a 200 there) turns this path off for the process, logged once.
"""

from __future__ import annotations

import http.client
import logging
import os
import ssl
import threading
import urllib.request
import weakref
from urllib.parse import quote, urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.httpsession import get_cert_path

log = logging.getLogger(__name__)

_local = threading.local()
_refused = weakref.WeakSet()  # storages whose bucket refused this path (see disable)


class _KnownPayloadAuth(S3SigV4Auth):
    """Signs with a SHA-256 the caller already has (ingest hashes every image for its row)."""

    def payload(self, request):
        return request.context.get("sha256") or super().payload(request)


class Putter:
    """One thread's way to PUT into the storage's bucket; built once per thread and storage."""

    def __init__(self, storage) -> None:
        client = storage.connection.meta.client
        self.storage = storage
        # botocore decides the address (virtual host or path style, region, custom
        # endpoint): a presigned URL is made locally, without a request.
        url = client.generate_presigned_url(
            "put_object", Params={"Bucket": storage.bucket_name, "Key": "k"}, ExpiresIn=60
        )
        parts = urlsplit(url)
        self.scheme, self.host = parts.scheme, parts.netloc
        self.base_path = parts.path[: -len("/k")]
        self.region = client.meta.region_name
        # The storage's own session factory: the keys its client signs with (env, profile, role).
        self.credentials = storage._create_session().get_credentials()
        self.timeout = client.meta.config.read_timeout
        self.tls = self._tls_context(storage.verify) if self.scheme == "https" else None
        self.connection: http.client.HTTPConnection | None = None
        self.usable = self.credentials is not None and not self._proxied()

    @staticmethod
    def _tls_context(verify) -> ssl.SSLContext:
        if verify is False:
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            return context
        cafile = verify if isinstance(verify, str) else os.environ.get("AWS_CA_BUNDLE") or get_cert_path(True)
        return ssl.create_default_context(cafile=cafile)

    def _proxied(self) -> bool:
        """A proxy on the way to the bucket (botocore's setting or HTTP(S)_PROXY): botocore's job."""
        if self.storage.proxies:
            return True
        hostname = self.host.rsplit(":", 1)[0]
        return self.scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(hostname)

    def _connect(self) -> http.client.HTTPConnection:
        if self.tls is not None:
            return http.client.HTTPSConnection(self.host, timeout=self.timeout, context=self.tls)
        return http.client.HTTPConnection(self.host, timeout=self.timeout)

    def put(self, name: str, data: bytes, content_type: str, sha256: str | None) -> int | None:
        """PUT `data` at bucket key `name`; the HTTP status, or None when the bucket was not reached."""
        path = f"{self.base_path}/{quote(name, safe='/~')}"
        request = AWSRequest("PUT", f"{self.scheme}://{self.host}{path}", data=data)
        request.headers["Content-Type"] = content_type
        request.context["sha256"] = sha256
        _KnownPayloadAuth(self.credentials.get_frozen_credentials(), "s3", self.region).add_auth(request)
        headers = dict(request.headers.items())
        # A kept-alive connection the bucket has closed since fails on first use: one more try, fresh.
        reused = self.connection is not None
        for attempt in range(2):
            if self.connection is None:
                self.connection = self._connect()
            try:
                self.connection.request("PUT", path, body=data, headers=headers)
                response = self.connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt or not reused:
                    return None
                continue
            if response.will_close:
                self.connection.close()
                self.connection = None
            return response.status
        return None


def putter(storage) -> Putter | None:
    """This thread's Putter for `storage`, or None when the lean path is off for it."""
    if storage in _refused:
        return None
    current = getattr(_local, "putter", None)
    if current is None or current.storage is not storage:
        current = _local.putter = Putter(storage)
    return current if current.usable else None


def disable(storage, status: int) -> None:
    """The bucket refused the lean PUT (a 4xx) but took botocore's: botocore from now on."""
    if storage not in _refused:
        _refused.add(storage)
        log.warning("media bucket: the lean PUT was refused (HTTP %s); uploads go through botocore", status)
