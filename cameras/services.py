"""Adding a camera or a Protect console and changing its URL: hash, uniqueness and secret storage in one place."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction

from cameras import network, secrets
from cameras.models import Camera, ProtectConsole


class CameraError(Exception):
    """An operator mistake (duplicate camera, bad URL); the message is safe to show."""


def secret_from_input(
    url: str, username: str = "", password: str = "", api_key: str = ""
) -> tuple[secrets.CameraSecret | None, str | None]:
    """(secret to store, env ref) for what an operator typed; exactly one is set.

    `env:VAR` keeps the URL in the environment; anything else is a URL that goes
    into the encrypted secrets file, with inline user:password@ moved out of it.
    """
    url = url.strip()
    if url.startswith("env:"):
        var = url.removeprefix("env:")
        if not var.isidentifier():
            raise CameraError("env: must name an environment variable, e.g. env:FRONT_CAM_URL.")
        return None, url
    try:
        bare, inline_user, inline_password = secrets.split_credentials(url)
    except secrets.SecretError as exc:
        raise CameraError(str(exc)) from None
    return (
        secrets.CameraSecret(
            url=bare,
            username=username or inline_user,
            password=password or inline_password,
            api_key=api_key,
        ),
        None,
    )


def _hash_for(secret: secrets.CameraSecret | None, env_ref: str | None) -> str:
    """The URL's hash, once the URL has passed what every saved URL must: its shape, its address."""
    try:
        real = secret if secret is not None else secrets.load_secret(env_ref)
        digest = secrets.url_hash(real.url)
        network.check_url(real.url)
    except (secrets.SecretError, network.AddressRefused) as exc:
        raise CameraError(str(exc)) from None
    return digest


def _check_unique(digest: str, exclude_pk: int | None = None) -> None:
    clash = Camera.objects.filter(url_hash=digest).exclude(pk=exclude_pk).first()
    if clash is not None:
        raise CameraError(f"This URL is already used by camera {clash.name!r}; a camera can be added once.")


def add_camera(
    name: str, url: str, username: str = "", password: str = "", api_key: str = "", **fields: Any
) -> Camera:
    """Create a camera; CameraError (never containing the URL) on a duplicate or bad URL."""
    if Camera.objects.filter(name=name).exists():
        raise CameraError(f"A camera named {name!r} already exists.")
    secret, env_ref = secret_from_input(url, username, password, api_key)
    digest = _hash_for(secret, env_ref)
    _check_unique(digest)
    try:
        ref = env_ref or secrets.store_secret(secret)
    except secrets.SecretError as exc:
        raise CameraError(str(exc)) from exc
    try:
        with transaction.atomic():
            return Camera.objects.create(name=name, url_hash=digest, encryption_key_ref=ref, **fields)
    except IntegrityError as exc:
        secrets.delete_secret(ref, missing_ok=True)
        # A concurrent add of the same URL or name lost the race to the unique constraint.
        raise CameraError("A camera with this name or URL already exists.") from exc


def check_url(url: str, exclude_pk: int | None = None) -> None:
    """Raise CameraError if `url` is unusable or another camera has it (for form validation)."""
    secret, env_ref = secret_from_input(url)
    _check_unique(_hash_for(secret, env_ref), exclude_pk=exclude_pk)


def set_camera_credentials(
    camera: Camera,
    username: str = "",
    password: str = "",
    api_key: str = "",
    clear: frozenset[str] = frozenset(),
) -> None:
    """Change only the credentials of a camera whose URL is in the secrets file.

    An empty value keeps the stored one (the form never shows secrets back); a name in
    `clear` ("username", "password", "api_key") removes it instead.
    """
    ref = camera.encryption_key_ref or ""
    if not ref.startswith("secrets:"):
        raise CameraError("This camera's URL lives in the environment; set its credentials there too.")
    try:
        old = secrets.load_secret(ref)
        kept = {
            name: "" if name in clear else (new or getattr(old, name))
            for name, new in (("username", username), ("password", password), ("api_key", api_key))
        }
        secrets.store_secret(secrets.CameraSecret(url=old.url, **kept), ref)
    except secrets.SecretError as exc:
        raise CameraError(str(exc)) from exc


@dataclass(frozen=True)
class ConnectionSummary:
    """What the camera page may show about a connection: never a password or a key."""

    masked_url: str
    username: str
    password_set: bool
    api_key_set: bool
    where: str  # "the encrypted secrets file" or "an environment variable"
    problem: str = ""


def connection_summary(camera: Camera) -> ConnectionSummary | None:
    """The camera's URL with its secrets masked, and which credentials are set; None if no URL."""
    ref = camera.encryption_key_ref or ""
    if not ref:
        return None
    # Not the variable's name: the pages never say where an address can be read.
    where = "an environment variable" if ref.startswith("env:") else "the encrypted secrets file"
    try:
        secret = secrets.load_secret(ref)
    except secrets.SecretError:
        # Not the error's text: for an env: ref it names the variable.
        problem = "The address cannot be read: type it again, or check the server's environment."
        return ConnectionSummary("", "", False, False, where, problem=problem)
    return ConnectionSummary(
        masked_url=secrets.masked_url(secret.url, secret.username, secret.password),
        username=secret.username or secrets.split_credentials(secret.url)[1],
        password_set=bool(secret.password or secrets.split_credentials(secret.url)[2]),
        api_key_set=bool(secret.api_key),
        where=where,
    )


def set_camera_url(
    camera: Camera, url: str, username: str = "", password: str = "", api_key: str = ""
) -> None:
    """Point an existing camera at a new URL/credentials (admin form). Saves the camera."""
    secret, env_ref = secret_from_input(url, username, password, api_key)
    digest = _hash_for(secret, env_ref)
    _check_unique(digest, exclude_pk=camera.pk)
    old_ref = camera.encryption_key_ref
    try:
        if env_ref:
            ref = env_ref
        else:
            reuse = old_ref if old_ref and old_ref.startswith("secrets:") else None
            ref = secrets.store_secret(secret, reuse)
    except secrets.SecretError as exc:
        raise CameraError(str(exc)) from exc
    camera.url_hash = digest
    camera.encryption_key_ref = ref
    camera.save()
    if old_ref and old_ref != ref:
        secrets.delete_secret(old_ref, missing_ok=True)


def rehash_all() -> int:
    """Recompute every camera's url_hash (after SECRET_KEY changed); returns how many changed."""
    changed = 0
    for camera in Camera.objects.exclude(encryption_key_ref=None).exclude(encryption_key_ref=""):
        try:
            digest = secrets.url_hash(secrets.load_secret(camera.encryption_key_ref).url)
        except secrets.SecretError:
            continue
        if digest != camera.url_hash:
            Camera.objects.filter(pk=camera.pk).update(url_hash=digest)
            changed += 1
    return changed


def env_value(var: str | None, what: str) -> str:
    """Read a credential from the environment for a command (never from argv, which `ps` shows)."""
    if not var:
        return ""
    value = os.environ.get(var, "")
    if not value:
        raise CameraError(f"Environment variable {var} ({what}) is not set.")
    return value


# --- UniFi Protect consoles ----------------------------------------------------


def normalise_console_address(text: str) -> str:
    """host or host:port (no 443) from what an operator typed: `https://Console:7443/` -> `console:7443`."""
    text = text.strip()
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme.lower() != "https":
        raise CameraError("A Protect console is reached over HTTPS: give https://CONSOLE[:PORT].")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise CameraError("Give only the console's address, https://CONSOLE[:PORT], without a path.")
    host = (parts.hostname or "").lower()
    if not host:
        raise CameraError("The console address has no host.")
    try:
        port = parts.port
    except ValueError as exc:
        raise CameraError("The console address has an invalid port.") from exc
    if ":" in host:
        host = f"[{host}]"
    return host if port in (None, 443) else f"{host}:{port}"


def normalise_fingerprint(text: str) -> str:
    """64 lower-case hex digits from `AB:CD:...` or `abcd...`; empty stays empty."""
    cleaned = text.strip().replace(":", "").replace(" ", "").lower()
    if cleaned and not re.fullmatch(r"[0-9a-f]{64}", cleaned):
        raise CameraError("A certificate fingerprint is the SHA-256 of the certificate: 64 hex digits.")
    return cleaned


def save_console(
    address: str,
    *,
    api_key: str = "",
    name: str = "",
    verify_tls: bool | None = None,
    fingerprint: str | None = None,
    username: str = "",
    password: str = "",
) -> tuple[ProtectConsole, bool]:
    """Create the console at `address` or update it; (console, created).

    Empty secrets keep the stored ones, so re-running a command without the local
    user does not forget it. The API key and local user go to the secrets file.
    """
    address = normalise_console_address(address)
    try:
        network.check_url(f"https://{address}")
    except network.AddressRefused as exc:
        raise CameraError(str(exc)) from None
    console = ProtectConsole.objects.filter(address=address).first()
    created = console is None
    if created and not api_key:
        raise CameraError("A new console needs its API key.")
    old = secrets.CameraSecret(url=f"https://{address}")
    if not created:
        try:
            old = secrets.load_secret(console.secret_ref)
        except secrets.SecretError as exc:
            if not api_key:
                raise CameraError(str(exc)) from exc
    secret = secrets.CameraSecret(
        url=f"https://{address}",
        api_key=api_key or old.api_key,
        username=username or old.username,
        password=password or old.password,
    )
    if created:
        console = ProtectConsole(address=address, name=name or address)
    elif name:
        console.name = name
    if verify_tls is not None:
        console.verify_tls = verify_tls
    if fingerprint is not None:
        console.certificate_sha256 = normalise_fingerprint(fingerprint)
    try:
        console.secret_ref = secrets.store_secret(secret, console.secret_ref or None)
    except secrets.SecretError as exc:
        raise CameraError(str(exc)) from exc
    try:
        with transaction.atomic():
            console.save()
    except IntegrityError as exc:
        if created:
            secrets.delete_secret(console.secret_ref, missing_ok=True)
        raise CameraError("A console with this name or address already exists.") from exc
    return console, created
