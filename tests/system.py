"""What a test needs from the machine beyond `make venv`: when it is missing, the test skips naming
the Debian package (a failure under CI=true, see tests/conftest.py), rather than erroring."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

# How long a server of our own may take to come up on a loaded machine: never a claim
# about speed, only the point where a hang becomes a readable failure.
START_PATIENCE = 120.0


def need_command(command: str, package: str) -> str:
    """The path of `command` on PATH, or a skip naming the package that brings it."""
    path = shutil.which(command)
    if path is None:
        pytest.skip(f"needs the Debian package {package} (apt-get install {package}): no {command} on PATH")
    return path


class RedisServer:
    """A redis-server of this test run's own on a free 127.0.0.1 port, nothing persisted.

    Not the shared one on 6379: other worktrees' suites run at the same time on this machine,
    and their FLUSHDB, their workers on the same queue names and their counters were ours too.
    """

    def __init__(self, directory: Path):
        binary = need_command("redis-server", "redis-server")
        with socket.socket() as probe:  # a port nobody holds right now
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(directory), "--databases", "16"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + START_PATIENCE
        while self.process.poll() is None and time.monotonic() < deadline:
            try:
                self.client().ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"redis-server did not answer on port {self.port} (exit status {self.process.poll()})")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db))

    @contextlib.contextmanager
    def empty_database(self, db: int):
        """The URL of database `db`, emptied before and after: one test's broker, no other's messages."""
        client = self.client(db)
        client.flushdb()
        try:
            yield self.url(db)
        finally:
            client.flushdb()
            client.close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=START_PATIENCE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
