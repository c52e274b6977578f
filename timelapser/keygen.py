"""Create the data-dir SECRET_KEY file if missing: `python -m timelapser.keygen` (make run)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from timelapser.envparse import ensure_secret_key_file


def main() -> None:
    data_dir = Path(os.environ.get("TIMELAPSER_DATA_DIR", "data")).resolve()
    if ensure_secret_key_file(data_dir / "secret_key"):
        sys.stdout.write(f"Generated a SECRET_KEY in {data_dir / 'secret_key'} (mode 0600).\n")


if __name__ == "__main__":
    main()
