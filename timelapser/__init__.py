"""Timelapser project package: settings, URLs, Celery app and project-wide commands."""

from timelapser.celery import app as celery_app

__all__ = ("celery_app",)
