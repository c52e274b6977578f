"""Django set up inside a benchmark's own process, on data that is the benchmark's alone.

For the benchmarks that call the app's code directly (render, periods, scrubsprite): a temp
work folder whose data/ is DATA_DIR, SQLite in it unless BENCH_DATABASE_URL names another
database (never the app's own), quiet logs. Import it before anything that needs settings.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(name: str) -> Path:
    """Configure and set up Django for bench/NAME.py; returns the work folder (DATA_DIR's parent)."""
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix=f"timelapser-bench-{name}-"))
    os.environ["TIMELAPSER_DATA_DIR"] = str(work / "data")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timelapser.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    return work
