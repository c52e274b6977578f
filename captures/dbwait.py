"""Riding out a database that stops answering in the middle of a capture.

The picture is fetched and written under DATA_DIR before its rows are stored;
if the database is unreachable then (a restart, a failover, a network blip),
throwing the picture away would lose a moment that never comes back. The store
step alone is tried again with back-off, for a bounded time, and the rows carry
the original captured_at. Only "unreachable" is waited out: an error from a
database that answers (a constraint, a full SQLite disk) is not going to change
by waiting and goes up at once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_DELAY, MAX_DELAY = 0.25, 5.0


class DatabaseUnreachable(Exception):
    """The database did not answer within the budget; nothing could be stored."""


def unreachable() -> bool:
    """Whether the default connection is broken, not merely refusing a statement.

    SQLite's is_usable() is always true (a file cannot go away like a server).
    """
    if connection.connection is None:
        return True
    return not connection.is_usable()


def until_database_answers(step: Callable[[], T], *, budget: float, what: str) -> T:
    """step(), tried again while the database is unreachable, for up to `budget` seconds.

    Inside a caller's transaction nothing is retried: the transaction died with
    the connection and only the caller can start it over.
    """
    if connection.in_atomic_block:
        return step()
    deadline = time.monotonic() + budget
    delay = FIRST_DELAY
    while True:
        try:
            return step()
        except (OperationalError, InterfaceError) as exc:
            if not unreachable():
                raise
            # The broken connection goes; the next try opens a new one.
            with contextlib.suppress(DatabaseError):
                connection.close()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DatabaseUnreachable(f"the database did not answer for {budget:g} s") from None
            # The class name only: a driver's message may name the host and user.
            log.warning(
                "database unreachable (%s) while %s; trying again in %.1f s",
                type(exc).__name__,
                what,
                min(delay, remaining),
            )
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_DELAY)
