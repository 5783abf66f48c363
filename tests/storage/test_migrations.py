"""Schema upgrades: an older database is brought up to date, data intact."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import peewee
import playhouse.migrate
import pytest
from playhouse.migrate import SchemaMigrator

import storage
from storage import users as user_store
from storage.database import is_postgresql
from storage.migrations import SCHEMA_VERSION, SchemaTooNew, check_version, migrate
from storage.models import AccessToken, SchemaVersion
from tests.tokens.conftest import POLICY, user_fields
from tokens import KeyRing, issue, verify
from tokens import format as token_format


@pytest.fixture
def fresh(
    db: peewee.Database, database_url: str, tmp_path
) -> Iterator[peewee.Database]:
    """An empty database of the same kind as the test database, bound instead.

    On PostgreSQL it is a schema of its own in the test database, found
    first on the search path; extensions stay reachable through ``public``.
    """
    if is_postgresql(db):
        db.execute_sql("DROP SCHEMA IF EXISTS upgrade CASCADE")
        db.execute_sql("CREATE SCHEMA upgrade")
        separator = "&" if "?" in database_url else "?"
        url = f"{database_url}{separator}options=-csearch_path%3Dupgrade%2Cpublic"
    else:
        url = f"sqlite:///{tmp_path}/upgrade.sqlite3"
    other = storage.connect(url)
    other.connect(reuse_if_open=True)
    yield other
    other.close()
    if is_postgresql(db):
        db.execute_sql("DROP SCHEMA upgrade CASCADE")


def make_version_1(db: peewee.Database) -> None:
    """Turn a new database into one as version 1 of the schema left it.

    Version 1 is today's schema less what version 2 added, so removing those
    additions gives it back.
    """
    migrator = SchemaMigrator.from_database(db)
    playhouse.migrate.migrate(
        migrator.drop_table("audit_event"),
        migrator.drop_column("access_token", "scopes"),
        migrator.drop_column("access_token", "last_used_address"),
        migrator.drop_column("access_token", "last_rejected"),
    )
    SchemaVersion.update(version=1).execute()


def columns(db: peewee.Database, table: str) -> set[str]:
    return {column.name for column in db.get_columns(table)}


def test_a_version_1_database_upgrades_and_keeps_its_tokens(fresh, clock):
    migrate(fresh)
    make_version_1(fresh)
    keys = KeyRing.generate()
    user = user_store.create_user(user_fields("alice"), now=clock())
    token = token_format.generate(keys.current)
    # Written with version 1's columns only, as a version 1 server would.
    AccessToken.insert(
        id=7,
        user=user.id,
        key_id=keys.current,
        secret_hash=keys.hash(token, keys.current),
        hint=token_format.hint(token),
        comment="from version 1",
        created=clock(),
        expires=clock() + datetime.timedelta(days=1),
    ).execute()

    found, now_at = migrate(fresh)

    principal = verify(keys, token, now=clock(), address="192.0.2.1")
    assert (found, now_at) == (1, SCHEMA_VERSION) == (1, 2)
    assert (principal.token_id, principal.scopes) == (7, None)
    assert {"scopes", "last_used_address", "last_rejected"} <= columns(
        fresh, "access_token"
    )
    assert fresh.table_exists("audit_event")
    check_version(fresh)


def test_an_upgraded_database_issues_and_audits_tokens(fresh, clock):
    migrate(fresh)
    make_version_1(fresh)
    migrate(fresh)
    keys = KeyRing.generate()
    user = user_store.create_user(user_fields("alice"), now=clock())

    issued = issue(keys, POLICY, user_id=user.id, now=clock(), scopes=["tokens"])

    assert verify(keys, issued.token, now=clock()).scopes == {"tokens"}


def test_the_upgraded_schema_matches_a_new_one(fresh, db, clock):
    migrate(fresh)
    made = {table: columns(fresh, table) for table in ("access_token", "audit_event")}
    indexes = {index.name for index in fresh.get_indexes("audit_event")}
    make_version_1(fresh)

    migrate(fresh)

    upgraded = {
        table: columns(fresh, table) for table in ("access_token", "audit_event")
    }
    assert upgraded == made
    assert {index.name for index in fresh.get_indexes("audit_event")} == indexes


def test_migrating_again_changes_nothing(fresh):
    migrate(fresh)

    assert migrate(fresh) == (SCHEMA_VERSION, SCHEMA_VERSION)


def test_a_version_1_database_is_refused_until_it_is_upgraded(fresh):
    migrate(fresh)
    make_version_1(fresh)

    with pytest.raises(SchemaTooNew, match="run `scim-server init`"):
        check_version(fresh)
