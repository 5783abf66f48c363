"""Creating the schema, and upgrading it from one version to the next.

A new database gets the current tables at once and is stamped with
``SCHEMA_VERSION``. An existing one runs, in order, every step numbered above
the version it records. A step must describe its change in explicit DDL
(``playhouse.migrate``), never through the current models, because the models
always describe the newest schema.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import peewee
import playhouse.migrate
from playhouse.migrate import SchemaMigrator

from storage.database import is_postgresql, transaction
from storage.models import ALL_MODELS, DocumentField, SchemaVersion, UTCDateTimeField

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2


def _upgrade_to_2(db: peewee.Database) -> None:
    """Token scopes, where and when tokens were used or refused; audit log."""

    # The table as this version defines it, frozen here so that later
    # changes to the AuditEvent model cannot change what this step creates.
    class AuditEventV2(peewee.Model):
        id = peewee.BigAutoField()
        at = UTCDateTimeField()
        event = peewee.CharField(max_length=16)
        actor_id = peewee.BigIntegerField(null=True)
        subject_id = peewee.BigIntegerField(null=True)
        token_id = peewee.BigIntegerField(null=True)
        address = peewee.TextField(null=True)
        detail = DocumentField(null=True)

        class Meta:
            table_name = "audit_event"

    with db.bind_ctx([AuditEventV2]):
        db.create_tables([AuditEventV2])
    migrator = SchemaMigrator.from_database(db)
    playhouse.migrate.migrate(
        migrator.add_index("audit_event", ("token_id", "at")),
        migrator.add_index("audit_event", ("at",)),
        migrator.add_column("access_token", "scopes", peewee.TextField(null=True)),
        migrator.add_column(
            "access_token", "last_used_address", peewee.TextField(null=True)
        ),
        migrator.add_column(
            "access_token", "last_rejected", UTCDateTimeField(null=True)
        ),
    )


# Steps that upgrade version N-1 to N, keyed by N.
UPGRADES: dict[int, Callable[[peewee.Database], None]] = {2: _upgrade_to_2}


class SchemaTooNew(RuntimeError):
    """The database was written by a newer release of this server."""


def current_version(db: peewee.Database) -> int | None:
    """The schema version recorded in ``db``, or None for an empty database."""
    if not db.table_exists(SchemaVersion._meta.table_name):
        return None
    row = SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar()
    return int(row) if row is not None else None


def migrate(db: peewee.Database) -> tuple[int | None, int]:
    """Bring ``db`` to ``SCHEMA_VERSION``; safe to run any number of times.

    Returns the version found and the version now in place.
    """
    with transaction():
        found = current_version(db)
        if found is None:
            db.create_tables(ALL_MODELS)
            if is_postgresql(db):
                _create_pattern_indexes(db)
            SchemaVersion.create(version=SCHEMA_VERSION)
            log.info("created database schema version %d", SCHEMA_VERSION)
            return None, SCHEMA_VERSION
        if found > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"database schema version {found} is newer than this server's "
                f"{SCHEMA_VERSION}; upgrade the server"
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            UPGRADES[version](db)
            SchemaVersion.update(version=version).execute()
            log.info("upgraded database schema to version %d", version)
        return found, SCHEMA_VERSION


# On PostgreSQL a btree index serves LIKE 'prefix%' only under the C
# collation; these indexes serve "sw" filters whatever the database's
# collation. (SQLite's indexes already do, with case_sensitive_like on.)
_PATTERN_INDEXES = {
    "scim_user_user_name_key_pattern": ("scim_user", "user_name_key"),
    "scim_user_external_id_pattern": ("scim_user", "external_id"),
    "scim_group_display_name_key_pattern": ("scim_group", "display_name_key"),
    "user_email_value_key_pattern": ("user_email", "value_key"),
}


def _create_pattern_indexes(db: Any) -> None:
    # TODO: "co" and "ew" on these columns still scan; pg_trgm GIN indexes
    # would serve them, but creating the extension needs privileges that a
    # hosted database may not grant, so it is left to operators for now.
    for name, (table, column) in _PATTERN_INDEXES.items():
        db.execute_sql(
            f'CREATE INDEX IF NOT EXISTS "{name}" '
            f'ON "{table}" ("{column}" text_pattern_ops)'
        )


def check_version(db: peewee.Database) -> None:
    """Refuse to serve from a database whose schema is not the current one."""
    found = current_version(db)
    if found != SCHEMA_VERSION:
        raise SchemaTooNew(
            f"database schema version is {found}, this server needs "
            f"{SCHEMA_VERSION}; run `scim-server init`"
        )
