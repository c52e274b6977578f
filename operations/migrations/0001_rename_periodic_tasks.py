"""Periodic-task rows name their task by its dotted path; the maintenance tasks moved to operations.

Beat rows made before the move (by the old `timelapser` migration and post_migrate
hook) are repointed so they keep running, with the operator's times untouched.
The rows themselves are made by operations.schedule on post_migrate.
"""

from django.db import migrations

RENAMED = {
    "timelapser.tasks.nightly_cleanup": "operations.tasks.nightly_cleanup",
    "timelapser.tasks.check_disk_space": "operations.tasks.check_disk_space",
    "timelapser.tasks.preview_cleanup": "operations.tasks.preview_cleanup",
    "timelapser.notify.warn_expiring_shares": "operations.tasks.warn_expiring_shares",
}


def forwards(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in RENAMED.items():
        PeriodicTask.objects.filter(task=old).update(task=new, queue="maintenance")


def backwards(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in RENAMED.items():
        PeriodicTask.objects.filter(task=new).update(task=old)


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(forwards, backwards)]
