"""What the HTTP load benchmarks (share_load.py, api.py) share: a fresh database, gunicorn
as the Procfile runs it, wrk against one URL, and the CPU the workers and PostgreSQL spent."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(name: str) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def start_gunicorn(python: str, env: dict, port: int, *extra: str) -> subprocess.Popen:
    """gunicorn with the Procfile's two workers (`extra`: worker_args(), as the Procfile's threads)."""
    return subprocess.Popen(
        [str(Path(python).parent / "gunicorn"), "timelapser.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", *extra, "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip


def worker_class() -> str:
    """BENCH_WORKER_CLASS: gthread (the Procfile's web: --threads makes gunicorn's workers
    gthread) or sync."""
    return os.environ.get("BENCH_WORKER_CLASS", "gthread")


def worker_args() -> list[str]:
    """gunicorn's worker options for BENCH_WORKER_CLASS: gthread with BENCH_THREADS threads
    (default 4, the Procfile's WEB_THREADS), or sync (one request at a time per process,
    a new connection for each)."""
    threads = ["--threads", os.environ.get("BENCH_THREADS", "4")] if worker_class() == "gthread" else []
    return ["--worker-class", worker_class(), *threads]


def wait_until_up(url: str, headers: dict | None = None) -> None:
    for _ in range(100):
        try:
            if httpx.get(url, headers=headers).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not come up")


def stop(server: subprocess.Popen | None, data_dir: Path) -> None:
    """Stop gunicorn (if it started) and remove the benchmark's data dir."""
    if server:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    shutil.rmtree(data_dir, ignore_errors=True)


def parse_wrk(output: str) -> dict[str, float]:
    def duration_ms(value: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
        return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    p99 = duration_ms(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    return {"rps": rps, "p99": p99, "errors": errors, "requests": requests}


def run_wrk(
    wrk: str, url: str, server: subprocess.Popen, db_name: str, duration: int, connections: int, headers=()
) -> dict[str, float]:
    """wrk's figures plus worker_cpu_ms and db_cpu_ms: CPU per request of gunicorn's workers
    and of PostgreSQL's backends, which on a shared machine say more than the rate does."""
    cpu_before = worker_cpu_seconds(server.pid)
    db_before = database_cpu_seconds(db_name)
    header_args = [arg for header in headers for arg in ("-H", header)]
    result = subprocess.run(
        [wrk, "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency", *header_args, url],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    figures = parse_wrk(result.stdout)
    requests = max(figures["requests"], 1)
    figures["worker_cpu_ms"] = (worker_cpu_seconds(server.pid) - cpu_before) * 1000 / requests
    figures["db_cpu_ms"] = database_cpu_since(db_name, db_before) * 1000 / requests
    return figures


def worker_cpu_seconds(master_pid: int) -> float:
    """User+system CPU of gunicorn's worker processes so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:  # ppid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def database_cpu_seconds(db_name: str) -> dict[int, float]:
    """User+system CPU so far of each PostgreSQL backend serving the bench database, by pid."""
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        pids = [
            row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [db_name])
        ]
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def database_cpu_since(db_name: str, before: dict[int, float]) -> float:
    """CPU the bench database's backends used since `before`; a backend that started since
    counts whole, one that ended since (CONN_MAX_AGE) is lost, so this is a lower bound."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in database_cpu_seconds(db_name).items())


def print_figures(prefix: str, figures: dict[str, float], duration: int, connections: int) -> None:
    """The figures every load benchmark prints, as name=value lines under its prefix."""
    print(f"{prefix}_rps={figures['rps']:.0f}")
    print(f"{prefix}_p99_ms={figures['p99']:.1f}")
    print(f"{prefix}_errors={figures['errors']}")
    # CPU gunicorn's workers and PostgreSQL spent per request: on a shared, overloaded
    # machine these say more about the code than the rate does.
    print(f"{prefix}_worker_cpu_ms_per_request={figures['worker_cpu_ms']:.2f}")
    print(f"{prefix}_db_cpu_ms_per_request={figures['db_cpu_ms']:.2f}")
    print(f"{prefix}_load_average_1m={os.getloadavg()[0]:.2f}")
    print(f"{prefix}_bench_seconds={duration}")
    print(f"{prefix}_connections={connections}")


def bench_env(db_name: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The server's environment: its own database and data dir, Redis as the shared cache
    (rate limits count there, as in production), quiet logs; `extra` on top."""
    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{db_name}",
        "TIMELAPSER_DATA_DIR": str(data_dir),
        "SECRET_KEY": "bench-only-" + os.urandom(24).hex(),
        "DEBUG": "false",
        "CACHE_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
        "LOG_LEVEL": "WARNING",
        **extra,
    }
