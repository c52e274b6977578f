"""Every fixed periodic job of the installation, declared once.

`migrate` (post_migrate) makes each a django-celery-beat row, which beat's
DatabaseScheduler runs and the admin lists under Periodic tasks. The per-camera
capture jobs are rows too, made by cameras.schedule when a camera is saved.

Two kinds: jobs an operator may retime in the admin (made once, then left alone),
and upkeep whose period comes from settings (brought back to the setting on
every migrate, as a deploy runs it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections


@dataclass(frozen=True)
class PeriodicJob:
    name: str  # the row's name: the admin shows it, and it finds the row again
    task: str
    queue: str
    crontab: dict = field(default_factory=dict)  # minute, hour (local to settings.TIME_ZONE)
    every_seconds: float | None = None
    operator_editable: bool = True


def periodic_jobs() -> list[PeriodicJob]:
    return [
        PeriodicJob(
            "timelapser: nightly cleanup",
            "operations.tasks.nightly_cleanup",
            "maintenance",
            crontab={"minute": "30", "hour": "3"},
        ),
        PeriodicJob(
            "timelapser: low-disk check",
            "operations.tasks.check_disk_space",
            "maintenance",
            every_seconds=600,
        ),
        PeriodicJob(
            "Warn about shares expiring soon",
            "operations.tasks.warn_expiring_shares",
            "maintenance",
            crontab={"minute": "0", "hour": "8"},
        ),
        PeriodicJob(
            "batches-recover-stale",
            "batches.tasks.recover_stale_batches",
            "render",
            every_seconds=60,
            operator_editable=False,
        ),
        PeriodicJob(
            "batches-periodic-continuous",
            "batches.tasks.update_periodic_continuous",
            "render",
            every_seconds=settings.TIMELAPSER_CONTINUOUS_PERIOD_SECONDS,
            operator_editable=False,
        ),
        # Light: it only compares and queues; the renders themselves go to the render queue.
        PeriodicJob(
            "sharing-period-videos",
            "sharing.tasks.refresh_period_videos",
            "maintenance",
            every_seconds=settings.TIMELAPSER_PERIOD_VIDEOS_SECONDS,
            operator_editable=False,
        ),
    ]


def _schedule_fields(job: PeriodicJob, using: str) -> dict:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule

    if job.every_seconds is not None:
        every = int(job.every_seconds)
        period = IntervalSchedule.MINUTES if every % 60 == 0 else IntervalSchedule.SECONDS
        interval, _ = IntervalSchedule.objects.using(using).get_or_create(
            every=every // 60 if period == IntervalSchedule.MINUTES else every, period=period
        )
        return {"interval": interval, "crontab": None}
    crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
        day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE, **job.crontab
    )
    return {"crontab": crontab, "interval": None}


def install_periodic_jobs(sender=None, using: str = "default", **kwargs) -> None:
    """post_migrate: make sure every declared job has its row (idempotent)."""
    from django_celery_beat.models import PeriodicTask

    # A partial `migrate some_app 0001` may run before beat's tables exist.
    if PeriodicTask._meta.db_table not in connections[using].introspection.table_names():
        return
    for job in periodic_jobs():
        fields = {"task": job.task, "queue": job.queue, **_schedule_fields(job, using)}
        if job.operator_editable:
            PeriodicTask.objects.using(using).get_or_create(name=job.name, defaults=fields)
        else:
            PeriodicTask.objects.using(using).update_or_create(name=job.name, defaults=fields)
