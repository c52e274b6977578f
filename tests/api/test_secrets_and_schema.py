"""No API response carries a secret; the OpenAPI schema validates and the docs page loads."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from api.models import ApiToken
from cameras.secrets import load_secret
from cameras.services import add_camera
from captures.ingest import capture
from tests.factories import make_batch

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-Pa55word"
API_KEY = "protect-api-key-0123456789"


def test_no_api_response_contains_the_camera_url_credentials_hash_or_token_hash(api_as, camera_server):
    api, token = api_as(superuser=True, username="root")
    camera = add_camera("front", camera_server.url(), username="admin", password=PASSWORD, api_key=API_KEY)
    assert capture(camera).ok
    batch = make_batch(camera, status="failed", error_message="boom")
    api.get("/api/v1/cameras")
    api.get(f"/api/v1/cameras/{camera.pk}")
    api.post(f"/api/v1/cameras/{camera.pk}/capture")
    api.post(f"/api/v1/cameras/{camera.pk}/test")
    api.post(f"/api/v1/cameras/{camera.pk}/still-url")
    api.get("/api/v1/images", camera=camera.pk)
    api.get("/api/v1/batches")
    api.post(f"/api/v1/batches/{batch.pk}/retry")
    created = api.post("/api/v1/batches", {"camera_id": camera.pk}).json()
    api.get(f"/api/v1/batches/{created['id']}")
    make_batch(camera, status="completed", output_path="videos/x.mp4")
    api.post("/api/v1/shares", {"batch_ids": [batch.pk], "title": "t", "password": PASSWORD})
    api.get("/api/v1/shares")
    api.get("/api/v1/openapi.json")
    api.get("/api/v1/cameras/999999")
    camera.refresh_from_db()
    secret = load_secret(camera.encryption_key_ref)
    forbidden = {
        "camera URL": secret.url,
        "host:port": f"127.0.0.1:{camera_server.port}",
        "password": PASSWORD,
        "API key": API_KEY,
        "url_hash": camera.url_hash,
        "encryption_key_ref": camera.encryption_key_ref,
        "token hash": ApiToken.objects.get(pk=token.pk).token_hash,
        "token": api.raw,
    }
    assert len(api.responses) == 14
    for response in api.responses:
        assert response.status_code < 500, response.content
        text = response.content.decode()
        for what, value in forbidden.items():
            assert value not in text, f"{what} leaked in {response.request['PATH_INFO']}"


def test_the_openapi_schema_is_valid_and_lists_every_endpoint(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    paths = set(schema["paths"])
    assert {
        "/api/v1/cameras",
        "/api/v1/cameras/{camera_id}",
        "/api/v1/cameras/{camera_id}/latest.jpg",
        "/api/v1/cameras/{camera_id}/still-url",
        "/api/v1/cameras/{camera_id}/capture",
        "/api/v1/cameras/{camera_id}/test",
        "/api/v1/images",
        "/api/v1/batches",
        "/api/v1/batches/{batch_id}",
        "/api/v1/batches/{batch_id}/retry",
        "/api/v1/shares",
        "/api/v1/shares/{share_id}/revoke",
    } <= paths
    assert "BearerToken" in schema["components"]["securitySchemes"]


def test_the_docs_page_loads_its_scripts_from_this_server(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui-bundle.js" in page
    assert "cdn." not in page
