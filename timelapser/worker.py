"""Start a Celery worker without Celery's command line: `python -m timelapser.worker --queues ...`.

The lean layout (Procfile.lean) starts its two workers with it. `celery worker` builds the
whole `celery` command line first (every subcommand, click-repl, prompt_toolkit, ...), which
stays in the worker for its whole life: ~8 MB RSS a worker for a parser it used once. This
reads the few options the layout uses with argparse and hands them to `app.Worker`, exactly as
`celery worker` does once it has parsed them (celery/bin/worker.py). Anything else, or another
command, is still `celery -A timelapser ...` (the production Procfile uses it).
"""

from __future__ import annotations

import argparse
import sys

from celery import concurrency
from celery.utils.log import mlevel
from celery.utils.nodenames import default_nodename, host_format

from timelapser.celery import app


def parser() -> argparse.ArgumentParser:
    # The same spellings as `celery worker`, so a Procfile line reads the same either way.
    parse = argparse.ArgumentParser(prog="python -m timelapser.worker", description=__doc__)
    parse.add_argument("-Q", "--queues", help="comma-separated queues to consume")
    parse.add_argument("-P", "--pool", default="prefork", choices=concurrency.get_available_pool_names())
    parse.add_argument("-c", "--concurrency", type=int)
    parse.add_argument("-n", "--hostname", help="node name; %%h, %%n and %%d expand as in celery")
    parse.add_argument("-l", "--loglevel", default="WARNING", type=str.upper)
    parse.add_argument("-I", "--include", help="comma-separated modules to import besides the apps' tasks")
    parse.add_argument("-S", "--scheduler", help="beat's scheduler class (with --beat-thread)")
    parse.add_argument("--without-gossip", action="store_true")
    parse.add_argument("--without-mingle", action="store_true")
    parse.add_argument("--without-heartbeat", action="store_true")
    parse.add_argument("--beat-thread", action="store_true", help="run beat as a thread of this worker")
    return parse


def worker_options(argv: list[str]) -> dict:
    """The keyword arguments `celery worker` would give app.Worker for the same options."""
    args = parser().parse_args(argv)
    # As the CLI's WorkersPool: prefork, the default, yields to a pool set in the configuration.
    pool = args.pool if args.pool != "prefork" or not app.conf.worker_pool else app.conf.worker_pool
    return {
        "hostname": host_format(default_nodename(args.hostname)),
        "pool_cls": concurrency.get_implementation(pool),
        "loglevel": mlevel(args.loglevel),
        "queues": args.queues.split(",") if args.queues else None,
        "include": args.include.split(",") if args.include else None,
        "concurrency": args.concurrency or app.conf.worker_concurrency,
        "scheduler": args.scheduler,
        "without_gossip": args.without_gossip,
        "without_mingle": args.without_mingle,
        "without_heartbeat": args.without_heartbeat,
        "beat_thread": args.beat_thread,  # our ThreadedBeat step (timelapser/celery.py) reads it
    }


def main(argv: list[str]) -> int:
    worker = app.Worker(**worker_options(argv))
    worker.start()
    return worker.exitcode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
