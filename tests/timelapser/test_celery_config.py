"""Celery is configured for JSON only, bounded tasks, and separate capture/render queues."""

from __future__ import annotations

from timelapser.celery import app


def test_only_json_is_accepted():
    assert app.conf.task_serializer == "json"
    assert list(app.conf.accept_content) == ["json"]


def test_every_task_has_a_time_limit():
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit < app.conf.task_time_limit


def test_render_and_capture_tasks_route_to_their_own_queues():
    router = app.amqp.router
    assert router.route({}, "batches.tasks.render_batch")["queue"].name == "render"
    assert router.route({}, "captures.tasks.capture_camera")["queue"].name == "capture"


def test_beat_reads_schedules_from_the_database():
    from django_celery_beat.schedulers import DatabaseScheduler
    from kombu.utils.imports import symbol_by_name

    assert issubclass(symbol_by_name(app.conf.beat_scheduler), DatabaseScheduler)
