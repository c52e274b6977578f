"""Reading a SQLite database that cannot be opened for writing (a full disk).

Opening a WAL database normally creates its -wal and -shm files, and on a full
disk that fails ("disk I/O error") before a single row is read. An immutable,
read-only open needs neither, so an operator can still see what the app knows.
It skips a -wal file left with content, so it may miss the last commits of a
process still running: good enough to read, never used to write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import quote

from django.db import connection


@contextlib.contextmanager
def read_only_snapshot() -> Iterator[None]:
    """The default (SQLite) connection, reopened read-only and immutable for the block."""
    db = connection.settings_dict
    saved = db["NAME"], db["OPTIONS"]
    connection.close()
    db["NAME"] = f"file:{quote(str(saved[0]))}?mode=ro&immutable=1"
    db["OPTIONS"] = {"timeout": saved[1].get("timeout", 5)}
    try:
        yield
    finally:
        connection.close()
        db["NAME"], db["OPTIONS"] = saved
