"""The indexes the seed asks for exist, with the kinds each database can have."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.conftest import VENDOR

pytestmark = pytest.mark.django_db

BOTH = {
    "images": {"idx_images_camera_captured", "idx_images_camera_day"},
    "timelapse_images": {"idx_timelapse_images_image"},
    "timelapse_batches": {"idx_batches_pending"},
    "shares": {"idx_shares_active"},
    "share_batches": {"idx_share_batches_share"},
}
POSTGRES = {
    "images": {"idx_images_captured_at_brin": "brin", "idx_images_metadata_gin": "gin"},
    "cameras": {"idx_cameras_overlay_gin": "gin"},
    "shares": {"idx_shares_search": "gin", "idx_shares_metadata_gin": "gin"},
}


def index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


@pytest.mark.parametrize("table", sorted(BOTH))
def test_orm_indexes_exist(table):
    assert BOTH[table] <= index_names(table)


@pytest.mark.postgres_only
@pytest.mark.parametrize("table", sorted(POSTGRES))
def test_postgres_special_indexes_have_their_access_method(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, am.amname FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_am am ON am.oid = i.relam WHERE t.relname = %s",
            [table],
        )
        methods = dict(cursor.fetchall())
    for name, method in POSTGRES[table].items():
        assert methods.get(name) == method, name


@pytest.mark.postgres_only
def test_pending_batches_index_is_partial():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_batches_pending'")
        (definition,) = cursor.fetchone()
    assert "WHERE" in definition and "pending" in definition


@pytest.mark.postgres_only
def test_image_keys_are_bigint():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE (table_name, column_name) IN (('images', 'id'), ('timelapse_images', 'image_id'), "
            "('capture_attempts', 'image_id'))"
        )
        types = {(table, column): kind for table, column, kind in cursor.fetchall()}
    assert set(types.values()) == {"bigint"} and len(types) == 3


def test_captured_at_has_brin_on_postgres_and_a_btree_on_sqlite():
    names = index_names("images")
    if VENDOR == "sqlite":
        assert "idx_images_captured_at" in names
    else:
        assert "idx_images_captured_at_brin" in names
        assert "idx_images_captured_at" not in names  # a B-tree beside BRIN would be dead weight
