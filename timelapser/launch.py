"""Run a Procfile's processes together in the foreground: `make run` runs Procfile.lean with it.

Run it as a script (`python -P timelapser/launch.py Procfile.lean [NAME ...]`), not as
`-m timelapser.launch`: importing the package would load Celery into a process that
only waits. It uses the standard library alone.

Why not honcho, which `make run-full` still uses: honcho keeps a forked Python process
(~15 MB) and a shell standing beside every process it runs. Here each line is handed to
/bin/sh with `exec`, so ${VAR:-default} expands as it does under honcho and then the
shell is gone; this process (~10 MB) is the only one that stays beside them.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

# Seconds the processes get to stop after SIGTERM before they are killed (honcho waits 5).
# A render in progress is not waited for: its batch goes back to the queue as stale.
STOP_SECONDS = float(os.environ.get("LAUNCH_STOP_SECONDS", "10"))
LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")


def read_procfile(path: Path, names: list[str] | None = None) -> list[tuple[str, str]]:
    """(name, command) of each `name: command` line, in file order; only `names` when given."""
    entries = []
    for line in path.read_text().splitlines():
        match = LINE.match(line.strip())
        if match and not line.lstrip().startswith("#"):
            entries.append((match.group(1), match.group(2)))
    if names:
        unknown = set(names) - {name for name, _ in entries}
        if unknown:
            raise SystemExit(f"{path} has no process named {', '.join(sorted(unknown))}")
        entries = [(name, command) for name, command in entries if name in names]
    return entries


def say(message: str) -> None:
    sys.stdout.write(f"{time.strftime('%H:%M:%S')} launch | {message}\n")
    sys.stdout.flush()


def stop(children: dict[int, str]) -> None:
    """SIGTERM to every child still running (Celery's warm, gunicorn's graceful stop), then SIGKILL."""
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while children and time.monotonic() < deadline:
        pid, _ = os.waitpid(-1, os.WNOHANG)
        if pid:
            say(f"{children.pop(pid, '?')} stopped")
        else:
            time.sleep(0.1)
    for pid, name in children.items():
        say(f"{name} did not stop within {STOP_SECONDS:g} s: killing it")
        _signal(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def main(argv: list[str]) -> int:
    if not argv:
        raise SystemExit("usage: launch.py PROCFILE [NAME ...]")
    entries = read_procfile(Path(argv[0]), argv[1:])
    stopping = []

    def on_signal(signum, frame) -> None:
        # Ctrl-C in a terminal reaches the children too (one process group); a SIGTERM
        # sent to this process alone does not, so pass it on either way.
        stopping.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    children: dict[int, str] = {}
    status = 0
    try:
        for name, command in entries:
            child = subprocess.Popen(["/bin/sh", "-c", f"exec {command}"])
            children[child.pid] = name
            say(f"{name} started (pid={child.pid})")
        # The first process to end, for whatever reason, ends them all: nothing runs half-started.
        pid, wait_status = os.wait()
        status = os.waitstatus_to_exitcode(wait_status)
        say(f"{children.pop(pid)} exited with status {status}; stopping the others")
    except KeyboardInterrupt:
        say("stopping")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop(children)
    return 0 if stopping else (status or 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
