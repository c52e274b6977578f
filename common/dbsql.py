"""Helpers for the per-app migrations that add database-specific SQL.

Each app has one migration that runs PostgreSQL or SQLite statements, chosen
by `schema_editor.connection.vendor` at run time (never at import time), and
undoes them on the way back.

ON DELETE rules live here too. Django 5.2 emulates CASCADE / SET NULL in Python,
which would load every image of a camera into memory before deleting it; the
models say DO_NOTHING and the database does the work: on PostgreSQL by
re-creating the foreign key with an ON DELETE action, on SQLite (which cannot
alter a constraint without rebuilding the table) with AFTER DELETE triggers.
Caveat for later migrations: Django rebuilds a SQLite table for many field
changes, and a rebuild drops that table's triggers; re-run the app's SQL
migration function after such a change (the schema tests will fail otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import migrations


@dataclass(frozen=True)
class OnDelete:
    table: str
    column: str
    parent: str
    action: str  # "CASCADE" or "SET NULL"

    @property
    def trigger_name(self) -> str:
        return f"fk_{self.table}_{self.column}_on_delete"


def _foreign_key_name(cursor, connection, rule: OnDelete) -> str:
    constraints = connection.introspection.get_constraints(cursor, rule.table)
    for name, info in constraints.items():
        if info["foreign_key"] and info["columns"] == [rule.column]:
            return name
    raise RuntimeError(f"no foreign key on {rule.table}.{rule.column}")


def _postgres_set_action(schema_editor, rule: OnDelete, action: str | None) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        name = _foreign_key_name(cursor, connection, rule)
    on_delete = f" ON DELETE {action}" if action else ""
    schema_editor.execute(
        f'ALTER TABLE "{rule.table}" DROP CONSTRAINT "{name}", '
        f'ADD CONSTRAINT "{name}" FOREIGN KEY ("{rule.column}") '
        f'REFERENCES "{rule.parent}" ("id"){on_delete} DEFERRABLE INITIALLY DEFERRED'
    )


def _sqlite_trigger(rule: OnDelete) -> str:
    if rule.action == "CASCADE":
        body = f'DELETE FROM "{rule.table}" WHERE "{rule.column}" = OLD.id;'
    else:
        body = f'UPDATE "{rule.table}" SET "{rule.column}" = NULL WHERE "{rule.column}" = OLD.id;'
    return (
        f'CREATE TRIGGER IF NOT EXISTS "{rule.trigger_name}" AFTER DELETE ON "{rule.parent}" '
        f"FOR EACH ROW BEGIN {body} END"
    )


def vendor_sql(
    *,
    postgresql: list[str] = (),
    postgresql_reverse: list[str] = (),
    sqlite: list[str] = (),
    sqlite_reverse: list[str] = (),
    on_delete: list[OnDelete] = (),
) -> migrations.RunPython:
    """A reversible RunPython that picks the statements for the live database."""

    def forward(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            for statement in postgresql:
                schema_editor.execute(statement)
            for rule in on_delete:
                _postgres_set_action(schema_editor, rule, rule.action)
        elif vendor == "sqlite":
            for statement in sqlite:
                schema_editor.execute(statement)
            for rule in on_delete:
                schema_editor.execute(_sqlite_trigger(rule))
        else:
            raise RuntimeError(f"Timelapser supports PostgreSQL and SQLite, not {vendor}")

    def backward(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            for rule in on_delete:
                _postgres_set_action(schema_editor, rule, None)
            for statement in postgresql_reverse:
                schema_editor.execute(statement)
        elif vendor == "sqlite":
            for rule in on_delete:
                schema_editor.execute(f'DROP TRIGGER IF EXISTS "{rule.trigger_name}"')
            for statement in sqlite_reverse:
                schema_editor.execute(statement)

    return migrations.RunPython(forward, backward)


def sqlite_rerun(*, sqlite: list[str] = (), on_delete: list[OnDelete] = ()) -> migrations.RunPython:
    """Re-create SQLite triggers after a later migration rebuilt their table (nothing on PostgreSQL).

    Django rebuilds a SQLite table for most field changes and the rebuild drops
    the table's triggers; the statements are idempotent (IF NOT EXISTS).
    """

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        for statement in sqlite:
            schema_editor.execute(statement)
        for rule in on_delete:
            schema_editor.execute(_sqlite_trigger(rule))

    return migrations.RunPython(forward, migrations.RunPython.noop)
