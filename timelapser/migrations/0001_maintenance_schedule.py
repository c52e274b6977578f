"""The maintenance schedule in django-celery-beat: nightly cleanup and a disk check.

Rows, not code, so operators can change the time in the admin; get_or_create
leaves an edited schedule alone if the migration is ever re-applied.
"""

from django.conf import settings
from django.db import migrations

NIGHTLY = "timelapser: nightly cleanup"
DISK = "timelapser: low-disk check"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE
    )
    every_10_min, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=NIGHTLY, defaults={"task": "timelapser.tasks.nightly_cleanup", "crontab": crontab, "queue": "maintenance"}
    )
    PeriodicTask.objects.get_or_create(
        name=DISK, defaults={"task": "timelapser.tasks.check_disk_space", "interval": every_10_min, "queue": "maintenance"}
    )


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[NIGHTLY, DISK]).delete()


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(create, remove)]
