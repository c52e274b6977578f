"""Camera URLs and credentials: kept out of the database, the logs and every page.

The database holds only `url_hash` (to refuse the same camera twice) and
`encryption_key_ref`, which says where the secret lives:

- ``env:VAR``: the URL is in the environment variable VAR; credentials, if any,
  in VAR_USERNAME, VAR_PASSWORD and VAR_API_KEY.
- ``secrets:ENTRY``: an entry of the encrypted secrets file in the data dir
  (``camera_secrets.enc``, mode 0600), a MultiFernet token over a JSON object,
  keyed by settings.TIMELAPSER_SECRETS_KEYS (newest first).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import unicodedata
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit, urlunsplit

from django.conf import settings

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

# cryptography is imported where a key is derived or the file read or written, not here: its
# Rust bindings are ~6 MB RSS, and every process imports this module (the render worker through
# the capture tasks, the web through the admin) while few of them ever touch a secret.

SECRETS_FILENAME = "camera_secrets.enc"
ALLOWED_SCHEMES = ("http", "https", "rtsp", "rtsps", "unifi-protect")
DEFAULT_PORTS = {"http": 80, "https": 443, "rtsp": 554, "rtsps": 322, "unifi-protect": 443}


class SecretError(Exception):
    """A camera secret is missing or unreadable. Messages never contain the secret."""


@dataclass(frozen=True)
class CameraSecret:
    url: str
    username: str = ""
    password: str = ""
    api_key: str = ""

    def __repr__(self) -> str:  # never let a secret reach a log through repr()
        return "CameraSecret(<hidden>)"

    __str__ = __repr__


def split_url(url: str) -> SplitResult:
    """urlsplit() of a camera URL plus the checks it skips; SecretError never quotes the URL.

    urlsplit raises ValueError on `http://admin:pw@[::1/x` (and .port on a bad port),
    with messages that may quote the URL; and it accepts spaces and control characters,
    which no camera URL holds and which would reach ffmpeg's input script.
    """
    if any(char.isspace() or unicodedata.category(char) in ("Cc", "Cf") for char in url.strip()):
        raise SecretError("The camera URL contains a space or a control character; type it without them.")
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number in range)
    except ValueError:
        raise SecretError(
            "The camera URL is not a valid URL: check the brackets around an IPv6 address and the port."
        ) from None
    return parts


def normalise_url(url: str) -> str:
    """One spelling per camera: lower-case scheme and host, no default port, no credentials.

    Credentials are not part of a camera's identity (changing a password must not
    make it a "new" camera), and `HTTP://Cam:80/snap` is the same camera as
    `http://cam/snap`.
    """
    parts = split_url(url)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise SecretError(f"Unsupported URL scheme {scheme!r}: use one of {', '.join(ALLOWED_SCHEMES)}.")
    host = (parts.hostname or "").lower()
    if not host:
        raise SecretError("The camera URL has no host.")
    port = parts.port
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def split_credentials(url: str) -> tuple[str, str, str]:
    """(url without user:password@, username, password) for URLs typed with inline credentials."""
    parts = split_url(url)
    username, password = parts.username or "", parts.password or ""
    if not (username or password):
        return url.strip(), "", ""
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), username, password


MASK = "••••"


def masked_url(url: str, username: str = "", password: str = "") -> str:
    """The URL's shape fit to show an operator: scheme and user visible, everything else ••••.

    The host, port, path and query are secrets too (a LAN address, an RTSP alias or a token in
    the query is enough to reach the camera), so only the scheme, the username and whether a
    password is set are shown: `http://admin:••••@••••/••••`. `username`/`password` are the
    separately stored credentials; inline ones in `url` count the same.
    """
    bare, inline_user, inline_password = split_credentials(url)
    parts = urlsplit(bare)
    user = username or inline_user
    secret = f":{MASK}" if (password or inline_password) else ""
    userinfo = f"{user}{secret}@" if (user or secret) else ""
    path = f"/{MASK}" if parts.path not in ("", "/") else "/"
    query = f"?{MASK}" if parts.query else ""
    return f"{parts.scheme}://{userinfo}{MASK}{path}{query}"


def _derived_key(purpose: bytes) -> bytes:
    # A dedicated key per purpose, derived from SECRET_KEY, so the hash key is
    # never the session-signing key itself and one cannot be used for the other.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"timelapser:" + purpose).derive(
        settings.SECRET_KEY.encode()
    )


def url_hash(url: str) -> str:
    """HMAC-SHA-256 of the normalised URL (64 hex chars).

    Plain SHA-256 would not do: a LAN camera URL such as
    http://192.168.1.20/snap.jpeg comes from a tiny space (private addresses x a
    few dozen vendor paths) that a laptop enumerates in seconds, so a leaked
    database would give the URLs away. Keyed by a server secret, the hash says
    nothing without that key.
    """
    return hmac.new(_derived_key(b"camera-url-hash"), normalise_url(url).encode(), hashlib.sha256).hexdigest()


def opaque_key(value: str) -> str:
    """A short keyed digest for cache keys and rate-limit buckets (hosts are secrets too)."""
    return hmac.new(_derived_key(b"opaque-key"), value.encode(), hashlib.sha256).hexdigest()[:32]


# --- The encrypted secrets file --------------------------------------------


def secrets_path() -> Path:
    return Path(settings.DATA_DIR) / SECRETS_FILENAME


def _fernet() -> MultiFernet:
    from cryptography.fernet import Fernet, MultiFernet

    keys = settings.TIMELAPSER_SECRETS_KEYS
    if not keys:
        raise SecretError(
            "TIMELAPSER_SECRETS_KEY is not set: set it (Fernet keys, newest first) "
            "or give the camera URL as env:VARIABLE."
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise SecretError("TIMELAPSER_SECRETS_KEY holds an invalid Fernet key.") from exc


@contextlib.contextmanager
def _locked():
    """Serialise writers (admin, commands) so two edits never lose one another."""
    path = secrets_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# (path, mtime_ns, size, keys) -> entries: a capture worker decrypts the file once
# per change, not once per capture. Writers replace the file, so the stamp changes.
_cache: dict[tuple, dict[str, dict]] = {}


def _read_all() -> dict[str, dict]:
    path = secrets_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    stamp = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino, tuple(settings.TIMELAPSER_SECRETS_KEYS))
    # One look-up, not `in` then `[]`: the capture worker's threads share this cache
    # and another may clear it in between when the file changes.
    cached = _cache.get(stamp)
    if cached is not None:
        return cached
    from cryptography.fernet import InvalidToken

    try:
        entries = json.loads(_fernet().decrypt(path.read_bytes()))
    except InvalidToken as exc:
        raise SecretError("The camera secrets file cannot be decrypted with TIMELAPSER_SECRETS_KEY.") from exc
    _cache.clear()
    _cache[stamp] = entries
    return entries


def _write_all(entries: dict[str, dict]) -> None:
    """Encrypt under the newest key; temp file (0600) + fsync + rename, never a half file."""
    path = secrets_path()
    token = _fernet().encrypt(json.dumps(entries).encode())
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(token)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def store_secret(secret: CameraSecret, ref: str | None = None) -> str:
    """Save a secret in the encrypted file; returns its `secrets:ENTRY` ref."""
    if ref is None or not ref.startswith("secrets:"):
        ref = f"secrets:{uuid.uuid4().hex}"
    with _locked():
        entries = dict(_read_all())
        entries[ref.removeprefix("secrets:")] = asdict(secret)
        _write_all(entries)
    return ref


def delete_secret(ref: str | None, missing_ok: bool = False) -> None:
    if not ref or not ref.startswith("secrets:"):
        return
    if missing_ok and not (secrets_path().exists() and settings.TIMELAPSER_SECRETS_KEYS):
        return
    with _locked():
        entries = dict(_read_all())
        if entries.pop(ref.removeprefix("secrets:"), None) is not None:
            _write_all(entries)


def load_secret(ref: str | None) -> CameraSecret:
    """The URL and credentials a ref names; SecretError (without the secret) if missing."""
    if not ref:
        raise SecretError("The camera has no URL configured.")
    if ref.startswith("env:"):
        var = ref.removeprefix("env:")
        url = os.environ.get(var, "")
        if not url:
            raise SecretError(f"Environment variable {var} (the camera URL) is not set.")
        return CameraSecret(
            url=url,
            username=os.environ.get(f"{var}_USERNAME", ""),
            password=os.environ.get(f"{var}_PASSWORD", ""),
            api_key=os.environ.get(f"{var}_API_KEY", ""),
        )
    if ref.startswith("secrets:"):
        entry = _read_all().get(ref.removeprefix("secrets:"))
        if entry is None:
            raise SecretError("The camera's entry is missing from the secrets file.")
        return CameraSecret(**entry)
    raise SecretError("The camera's secret reference is not env:VAR or secrets:ENTRY.")


def rotate() -> int:
    """Re-encrypt the secrets file under the newest key; returns the number of entries."""
    with _locked():
        path = secrets_path()
        if not path.exists():
            return 0
        entries = _read_all()
        _write_all(entries)
        return len(entries)
