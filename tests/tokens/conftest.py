"""Fixtures for the token tests: an owner, a policy, an issued token."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import peewee
import pytest

from storage import audit as audit_store
from storage import users as user_store
from storage.database import is_postgresql
from storage.records import UserFields, UserRecord
from tokens import IssuedToken, KeyRing, TokenPolicy, issue

DAY = datetime.timedelta(days=1)
POLICY = TokenPolicy(default_lifetime=30 * DAY, max_lifetime=90 * DAY)


def user_fields(user_name: str, *, active: bool = True) -> UserFields:
    return UserFields(
        user_name=user_name,
        document={"userName": user_name},
        search={"userName": user_name.casefold()},
        active=active,
    )


def events_of(token_id: int | None) -> list[str]:
    """The audit events recorded for a token, oldest first."""
    return [
        record.event for record in reversed(audit_store.list_events(token_id=token_id))
    ]


@pytest.fixture
def user(db: peewee.Database, clock) -> UserRecord:
    return user_store.create_user(user_fields("alice"), now=clock())


@pytest.fixture
def issued(keys: KeyRing, user: UserRecord, clock) -> IssuedToken:
    return issue(keys, POLICY, user_id=user.id, now=clock())


@pytest.fixture
def audit_refused(db: peewee.Database) -> Iterator[None]:
    """Make every write to the audit log fail, as a full disk would."""
    if is_postgresql(db):
        db.execute_sql(
            "ALTER TABLE audit_event ADD CONSTRAINT refuse_all CHECK (false) NOT VALID"
        )
        yield
        if db.in_transaction():
            db.rollback()
        db.execute_sql("ALTER TABLE audit_event DROP CONSTRAINT refuse_all")
    else:
        db.execute_sql(
            "CREATE TEMP TRIGGER refuse_all BEFORE INSERT ON audit_event"
            " BEGIN SELECT RAISE(ABORT, 'audit log refused'); END"
        )
        yield
        db.execute_sql("DROP TRIGGER temp.refuse_all")
