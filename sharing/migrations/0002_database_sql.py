"""Database-specific SQL for shares.

PostgreSQL: the seed's search_vector trigger (limited to title/description
changes, so a view_count bump does not re-parse the text) and GIN indexes on it
and on non-empty metadata. The seed's expression index on
to_tsvector(title || description) is replaced by the index on the maintained
column, which is what queries filter on.
SQLite: no tsvector; search falls back to case-insensitive substring matching
on title and description (sharing.admin), fine at the few hundred shares a
self-hosted install has.
"""

from django.db import migrations

from common.dbsql import OnDelete, vendor_sql

POSTGRESQL = [
    """
    CREATE TRIGGER shares_search_vector_update BEFORE INSERT OR UPDATE OF title, description
    ON shares FOR EACH ROW EXECUTE FUNCTION
    tsvector_update_trigger(search_vector, 'pg_catalog.english', title, description)
    """,
    "CREATE INDEX idx_shares_search ON shares USING GIN (search_vector)",
    "CREATE INDEX idx_shares_metadata_gin ON shares USING GIN (metadata) WHERE metadata <> '{}'::jsonb",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS idx_shares_metadata_gin",
    "DROP INDEX IF EXISTS idx_shares_search",
    "DROP TRIGGER IF EXISTS shares_search_vector_update ON shares",
]

ON_DELETE = [
    OnDelete("share_batches", "share_id", "shares", "CASCADE"),
    OnDelete("share_batches", "timelapse_batch_id", "timelapse_batches", "CASCADE"),
    OnDelete("share_customization", "share_id", "shares", "CASCADE"),
]


class Migration(migrations.Migration):
    dependencies = [("sharing", "0001_initial"), ("batches", "0003_database_sql")]

    operations = [
        vendor_sql(postgresql=POSTGRESQL, postgresql_reverse=POSTGRESQL_REVERSE, on_delete=ON_DELETE)
    ]
