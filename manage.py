#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timelapser.settings")
    if not os.environ.get("SECRET_KEY") and not os.environ.get("DATABASE_URL"):
        # Embedded defaults (a fresh clone, SQLite): make the private data-dir keys
        # `make run` makes, so every command works at once. With DATABASE_URL set
        # (production) nothing is generated: settings refuse to start without a key.
        from timelapser import keygen

        keygen.main(Path(__file__).resolve().parent / "data", report=sys.stderr)

    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.SECRET_KEY  # noqa: B018 - loads the settings: one clear line instead of a traceback
    except ImproperlyConfigured as exc:
        sys.exit(f"manage.py: {exc}")
    execute_from_command_line(sys.argv)
