"""Small, separately tested functions that turn environment values into settings."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def sqlite_options() -> dict:
    """SQLite tuned for a web process and Celery workers writing at once.

    WAL lets readers go on while one writer writes; busy_timeout (the driver's
    ``timeout``) makes a writer wait for the lock instead of failing at once; and
    IMMEDIATE transactions take the write lock at BEGIN, so two writers never
    deadlock by both upgrading a read lock half way through a transaction.
    """
    return {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }


def database_config(url: str, default_sqlite_path: Path) -> dict:
    """Parse DATABASE_URL (empty means the embedded SQLite file) into a DATABASES entry."""
    import environ

    if not url:
        url = f"sqlite:///{default_sqlite_path}"
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {**sqlite_options(), **config.get("OPTIONS", {})}
        name = Path(config["NAME"])
        # Tests use a file too, so a real Celery worker process can share it.
        config["TEST"] = {"NAME": str(name.with_name(f"test_{name.name}"))}
    else:
        config.setdefault("CONN_MAX_AGE", 60)
        config.setdefault("CONN_HEALTH_CHECKS", True)
    return config


def resolve_secret_key(from_env: str, key_file: Path) -> str:
    """SECRET_KEY from the environment, else from the file the run command keeps.

    Production sets SECRET_KEY; without it and without the file we refuse to
    start rather than sign sessions and share cookies with a guessable key.
    """
    if from_env:
        return from_env
    if key_file.exists():
        value = key_file.read_text().strip()
        if value:
            return value
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
        "(or run `make run` once, which keeps a generated key in the data directory)."
    )


def ensure_secret_key_file(key_file: Path, make_key=None) -> bool:
    """Create a private key file (mode 0600) if it is missing; True when created."""
    if key_file.exists():
        return False
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(make_key() if make_key else secrets.token_urlsafe(50))
    return True


def broker_config(url: str, data_dir: Path) -> tuple[str, dict]:
    """Broker URL and transport options; empty means kombu's filesystem transport.

    The filesystem transport needs no server, which is what a first run on a
    laptop wants; production sets a redis:// URL.
    """
    if url:
        return url, {"visibility_timeout": 4 * 3600} if url.startswith("redis") else {}
    queue_dir = data_dir / "broker"
    for sub in ("queue", "processed", "control"):
        (queue_dir / sub).mkdir(parents=True, exist_ok=True)
    return "filesystem://", {
        "data_folder_in": str(queue_dir / "queue"),
        "data_folder_out": str(queue_dir / "queue"),
        "processed_folder": str(queue_dir / "processed"),
        "store_processed": False,
        # Without this kombu writes its broadcast files to ./control in the cwd.
        "control_folder": str(queue_dir / "control"),
    }


def fernet_keys(value: str, key_file: Path | None = None) -> list[str]:
    """TIMELAPSER_SECRETS_KEY: comma-separated Fernet keys, newest first.

    Without it, the key `make run` generated in the data dir (so a first run can
    store camera URLs at all). Production should set the variable and keep the
    key away from the encrypted file it protects.
    """
    if not value and key_file is not None and key_file.exists():
        value = key_file.read_text()
    return [key.strip() for key in value.split(",") if key.strip()]


def request_meta_key(header: str) -> str:
    """A header name as Django's request.META holds it: "X-Real-IP" -> "HTTP_X_REAL_IP".

    Empty stays empty (no proxy: the peer's own address, REMOTE_ADDR, is the client's).
    """
    header = header.strip()
    if not header:
        return ""
    name = header.upper().replace("-", "_")
    if not name.startswith("HTTP_") and name != "REMOTE_ADDR":
        name = f"HTTP_{name}"
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise ImproperlyConfigured(f"Not a header name: {header!r} (e.g. X-Real-IP).")
    return name


def media_storage(url: str, endpoint: str) -> tuple[dict | None, list[str]]:
    """TIMELAPSER_MEDIA_URL (empty: the local data folder) as a STORAGES["media"] entry.

    `s3://bucket/prefix` keeps media in that bucket through django-storages; the
    keys are the same relative paths a local install stores (images/..., videos/...),
    under the prefix. Also returns the origin(s) the share player must be allowed to
    load video from (the presigned URLs point at the bucket, not this site).
    The keys come from django-storages' own variables (AWS_ACCESS_KEY_ID, ...),
    read by boto3, so they never pass through a setting that could be printed.
    """
    from urllib.parse import urlsplit

    if not url:
        return None, []
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ImproperlyConfigured("TIMELAPSER_MEDIA_URL must be empty (local folder) or s3://bucket/prefix.")
    prefix = parts.path.strip("/")
    options = {
        "bucket_name": parts.netloc,
        "location": prefix,
        "endpoint_url": endpoint or None,
        "querystring_auth": True,
        # Presigned share links live five minutes: long enough to start playing
        # (the player re-asks this site, which re-signs, when one runs out).
        "querystring_expire": 300,
        "file_overwrite": True,
        "default_acl": None,
        "signature_version": "s3v4",
    }
    if endpoint:
        split = urlsplit(endpoint)
        origins = [f"{split.scheme}://{split.netloc}"]
    else:
        origins = [f"https://{parts.netloc}.s3.amazonaws.com", "https://*.amazonaws.com"]
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}, origins
