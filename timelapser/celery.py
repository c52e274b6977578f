"""The Celery app; configuration lives in settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timelapser.settings")
app = Celery("timelapser")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
