"""What a test needs from the machine beyond `make venv`: when it is missing, the test skips naming
the Debian package (a failure under CI=true, see tests/conftest.py), rather than erroring."""

from __future__ import annotations

import shutil

import pytest
import redis


def need_command(command: str, package: str) -> str:
    """The path of `command` on PATH, or a skip naming the package that brings it."""
    path = shutil.which(command)
    if path is None:
        pytest.skip(f"needs the Debian package {package} (apt-get install {package}): no {command} on PATH")
    return path


def need_redis(url: str) -> redis.Redis:
    """A client for the Redis at `url` that answered a PING, or a skip naming redis-server."""
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError:
        client.close()
        where = url.split("@")[-1]  # a test URL, but never print a password all the same
        pytest.skip(f"needs a Redis server at {where} (Debian package redis-server, started)")
    return client
