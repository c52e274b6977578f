"""The Celery app; configuration lives in settings under the CELERY_ namespace."""

import os

from celery import Celery, bootsteps
from celery.signals import task_prerun
from click import Option
from kombu.transport import TRANSPORT_ALIASES

# filesystem:// (the embedded broker) writes each message whole before a consumer can see it
# (timelapser/broker.py). Kept with the URL's scheme, so a redis:// broker set anywhere stays Redis.
TRANSPORT_ALIASES["filesystem"] = "timelapser.broker:Transport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timelapser.settings")
app = Celery("timelapser")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class ThreadedBeat(bootsteps.StartStopStep):
    """`celery worker --beat-thread`: beat runs as a thread of this worker.

    Celery's own `-B` forks beat into a process of its own, which measured 90 MB RSS
    (52 MB PSS) on its own; as a thread it shares the worker's. The lean layout
    (Procfile.lean, `make run`) uses it in its one capture worker; production runs
    `celery beat` as the Procfile's own process, exactly once.
    """

    label = "Threaded beat"
    conditional = True

    def __init__(self, worker, beat_thread: bool = False, **kwargs) -> None:
        self.enabled = beat_thread
        super().__init__(worker, **kwargs)

    def create(self, worker):
        from celery.beat import EmbeddedService

        # scheduler is CELERY_BEAT_SCHEDULER (the database scheduler) unless --scheduler says otherwise.
        return EmbeddedService(worker.app, thread=True, scheduler_cls=worker.scheduler)


app.user_options["worker"].add(
    Option(["--beat-thread"], is_flag=True, default=False, help="Run beat as a thread of this worker.")
)
app.steps["worker"].add(ThreadedBeat)


@task_prerun.connect
def reuse_database_connections(sender=None, **kwargs) -> None:
    """Keep database connections between tasks as Django keeps them between requests.

    Without CELERY_DB_REUSE_MAX (settings), Celery closes every connection before and
    after each task: on PostgreSQL that is a new connection, and a new backend process,
    for every capture. With it set, Celery closes them only now and then, and this
    does the rest: close a connection older than CONN_MAX_AGE or one that broke.
    """
    if sender is not None and getattr(sender.request, "is_eager", False):
        return  # runs inside the caller's transaction (tests): leave its connection alone
    from django.db import close_old_connections

    close_old_connections()
