"""A segmented batch's day segments go with it (database-enforced, like the seed's rules).

Its own migration: PostgreSQL gets the foreign key only at the end of the migration that makes the table.
"""

from django.db import migrations

from common.dbsql import OnDelete, vendor_sql


class Migration(migrations.Migration):
    dependencies = [("batches", "0011_batch_segments")]

    operations = [
        vendor_sql(on_delete=[OnDelete("timelapse_batch_segments", "batch_id", "timelapse_batches", "CASCADE")])
    ]
