from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "problems": {}}


def test_healthz_says_503_when_the_broker_is_down_without_leaking_its_url(client, settings):
    from timelapser.celery import app

    secret_url = "redis://:hunter2-secret@127.0.0.1:1/0"
    old = app.conf.broker_url
    app.conf.broker_url = secret_url
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = old

    assert response.status_code == 503
    assert "broker" in response.json()["problems"]
    assert b"hunter2" not in response.content
