"""Create the data-dir SECRET_KEY and Fernet key files if missing: `python -m timelapser.keygen` (make run)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from timelapser.envparse import ensure_secret_key_file


def main(default_data_dir: Path = Path("data"), report=sys.stdout) -> None:
    data_dir = Path(os.environ.get("TIMELAPSER_DATA_DIR", default_data_dir)).resolve()
    if ensure_secret_key_file(data_dir / "secret_key"):
        report.write(f"Generated a SECRET_KEY in {data_dir / 'secret_key'} (mode 0600).\n")
    if not os.environ.get("TIMELAPSER_SECRETS_KEY") and ensure_secret_key_file(
        data_dir / "secrets_key", lambda: Fernet.generate_key().decode()
    ):
        report.write(f"Generated a camera-secrets key in {data_dir / 'secrets_key'} (mode 0600).\n")


if __name__ == "__main__":
    main()
