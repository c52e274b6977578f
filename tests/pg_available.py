"""Exit 0 when the PostgreSQL server behind the given URL answers (used by `make test`)."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit


def main(url: str) -> int:
    import psycopg

    parts = urlsplit(url)
    try:
        psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.Error:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
