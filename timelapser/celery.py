"""The Celery app; configuration lives in settings under the CELERY_ namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timelapser.settings")
app = Celery("timelapser")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
