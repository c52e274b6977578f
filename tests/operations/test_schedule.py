"""Periodic work is declared once (operations.schedule) and made into beat rows by migrate."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from operations.schedule import install_periodic_jobs, periodic_jobs
from timelapser.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def registered_tasks():
    # What a worker does at start: import every app's tasks module.
    app.loader.import_default_modules()


def test_every_declared_job_has_one_row_naming_a_registered_task():
    install_periodic_jobs()
    install_periodic_jobs()
    for job in periodic_jobs():
        [row] = PeriodicTask.objects.filter(name=job.name)
        assert row.task == job.task and row.task in app.tasks
        assert row.queue == job.queue and row.enabled


def test_nothing_is_scheduled_from_settings():
    assert not app.conf.beat_schedule


def test_an_operator_retimed_cleanup_keeps_its_time_after_the_next_migrate():
    row = PeriodicTask.objects.get(name="timelapser: nightly cleanup")
    row.crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="15", hour="1", day_of_week="*", day_of_month="*", month_of_year="*"
    )
    row.save()

    install_periodic_jobs()

    row.refresh_from_db()
    assert (row.crontab.hour, row.crontab.minute) == ("1", "15")


def test_upkeep_follows_its_setting_on_the_next_migrate(settings):
    settings.TIMELAPSER_CONTINUOUS_PERIOD_SECONDS = 900
    install_periodic_jobs()
    row = PeriodicTask.objects.get(name="batches-periodic-continuous")
    assert (row.interval.every, row.interval.period) == (15, "minutes")


def test_rows_made_before_the_move_are_repointed_to_the_operations_tasks():
    PeriodicTask.objects.filter(name="timelapser: nightly cleanup").update(
        task="timelapser.tasks.nightly_cleanup"
    )
    migration = importlib.import_module("operations.migrations.0001_rename_periodic_tasks")

    migration.forwards(django_apps, None)

    row = PeriodicTask.objects.get(name="timelapser: nightly cleanup")
    assert row.task == "operations.tasks.nightly_cleanup" and row.task in app.tasks
