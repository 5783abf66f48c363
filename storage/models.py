"""Peewee models: the tables and their indexes.

Each SCIM resource is one row holding the columns that lookups and
uniqueness need, plus ``document``, the resource's JSON as the server last
wrote it, so that reading a resource by id is a single-row read without
joins, and ``search``, the same document with every case-insensitive string
case-folded and every timestamp in one fixed-width UTC form, which filters on
attributes without a column of their own read through the database's JSON
functions. Multi-valued attributes that clients look resources up by live in
child tables keyed ``(value, parent)``; group membership has its own table,
and a user's ``groups`` attribute is computed from it.

Names that must be unique case-insensitively (``userName``, group
``displayName``) have a ``*_key`` shadow column holding ``str.casefold()`` of
the value with a unique index on it: that behaves the same on every backend,
for all of Unicode, where SQLite's NOCASE folds ASCII only.
"""

from __future__ import annotations

import datetime
from typing import Any

import orjson
import peewee

from storage.database import database_proxy


class UTCDateTimeField(peewee.Field):
    """A timestamp stored as naive UTC and returned as an aware UTC datetime.

    Storing one form on both backends keeps comparisons and ordering exact on
    SQLite, where timestamps are text.
    """

    field_type = "TIMESTAMP"

    def db_value(self, value: datetime.datetime | None) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        naive = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return naive.isoformat(sep=" ", timespec="microseconds")

    def python_value(self, value: Any) -> datetime.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        if not isinstance(value, datetime.datetime):
            raise TypeError(f"expected a timestamp, got {type(value).__name__}")
        return value.replace(tzinfo=datetime.UTC)


class DocumentField(peewee.Field):
    """A JSON object: JSONB on PostgreSQL, text on SQLite."""

    field_type = "JSON"

    def db_value(self, value: dict[str, Any] | None) -> Any:
        return None if value is None else orjson.dumps(value).decode()

    def python_value(self, value: Any) -> dict[str, Any] | None:
        if value is None or isinstance(value, dict):
            return value
        decoded = orjson.loads(value)
        if not isinstance(decoded, dict):
            raise TypeError("a resource document must be a JSON object")
        return decoded


class BaseModel(peewee.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class SchemaVersion(BaseModel):
    """The schema version this database has been migrated to (one row)."""

    version = peewee.IntegerField()


class ResourceId(BaseModel):
    """Every id ever handed out, never deleted, so that no id is ever reused.

    Users, groups and tokens draw ids from this one table, which also keeps
    a user's id from ever equalling a group's, so a membership row's member
    id alone says which resource it points at.
    """

    id = peewee.BigIntegerField(primary_key=True)
    kind = peewee.CharField(max_length=16)


class User(BaseModel):
    id = peewee.BigIntegerField(primary_key=True)
    user_name = peewee.TextField()
    user_name_key = peewee.TextField(unique=True)
    display_name = peewee.TextField(null=True)
    external_id = peewee.TextField(null=True, index=True)
    active = peewee.BooleanField(default=True, index=True)
    password_hash = peewee.TextField(null=True)
    document = DocumentField()
    search = DocumentField()
    created = UTCDateTimeField()
    last_modified = UTCDateTimeField(index=True)
    version = peewee.IntegerField(default=1)

    class Meta:
        table_name = "scim_user"
        indexes = ((("created", "id"), False),)


class UserEmail(BaseModel):
    """One value of a user's ``emails``, for lookups by address."""

    user = peewee.ForeignKeyField(User, on_delete="CASCADE", backref="email_rows")
    value = peewee.TextField()
    value_key = peewee.TextField()
    type_key = peewee.TextField(null=True)
    primary = peewee.BooleanField(null=True)

    class Meta:
        table_name = "user_email"
        primary_key = False
        indexes = ((("value_key", "user"), False),)


class Group(BaseModel):
    id = peewee.BigIntegerField(primary_key=True)
    display_name = peewee.TextField()
    display_name_key = peewee.TextField(unique=True)
    external_id = peewee.TextField(null=True, index=True)
    # "admins" or "users" for the two groups the server itself relies on;
    # NULL for every other group. Looked up by this, not by name.
    builtin = peewee.CharField(max_length=16, null=True, unique=True)
    document = DocumentField()
    search = DocumentField()
    created = UTCDateTimeField()
    last_modified = UTCDateTimeField(index=True)
    version = peewee.IntegerField(default=1)

    class Meta:
        table_name = "scim_group"
        indexes = ((("created", "id"), False),)


class Membership(BaseModel):
    """One direct member of a group: a user or another group.

    ``member_id`` has no foreign key because it may name either table; the
    functions that delete users and groups delete its rows in the same
    transaction.
    """

    group = peewee.ForeignKeyField(Group, on_delete="CASCADE")
    member_id = peewee.BigIntegerField()
    member_type = peewee.CharField(max_length=8)

    class Meta:
        table_name = "membership"
        primary_key = peewee.CompositeKey("group", "member_id")
        indexes = ((("member_id", "group"), False),)


class AccessToken(BaseModel):
    """A personal access token: only a keyed hash of its secret is kept."""

    id = peewee.BigIntegerField(primary_key=True)
    user = peewee.ForeignKeyField(User, on_delete="CASCADE", backref="tokens")
    key_id = peewee.CharField(max_length=16)
    secret_hash = peewee.CharField(max_length=64, unique=True)
    hint = peewee.CharField(max_length=32)
    comment = peewee.TextField(null=True)
    created = UTCDateTimeField()
    expires = UTCDateTimeField(null=True)
    revoked = UTCDateTimeField(null=True)
    # Space-separated scope names, sorted; NULL grants the owner's full
    # rights. A token's scopes can only narrow what its owner may do.
    scopes = peewee.TextField(null=True)
    # Refreshed at most once a minute, so recording use is not a write on
    # every request (tokens.verification explains the rule).
    last_used = UTCDateTimeField(null=True)
    last_used_address = peewee.TextField(null=True)
    # When a refusal of this token was last written to the audit log, so
    # that a client retrying with a dead token adds one record a minute, not
    # one per request, and an expired token is recorded once.
    last_rejected = UTCDateTimeField(null=True)

    class Meta:
        table_name = "access_token"


class AuditEvent(BaseModel):
    """Something that happened to a token, kept after the token is gone.

    The ids have no foreign keys on purpose: the record of what a token did
    must outlive the token and its owner. No column ever holds a secret; a
    token that matched no row is named by its hint alone.
    """

    id = peewee.BigAutoField()
    at = UTCDateTimeField()
    event = peewee.CharField(max_length=16)
    # The user who caused the event; NULL for the command line and for the
    # server's own actions (expiry, sweeps).
    actor_id = peewee.BigIntegerField(null=True)
    # The owner of the token concerned.
    subject_id = peewee.BigIntegerField(null=True)
    token_id = peewee.BigIntegerField(null=True)
    address = peewee.TextField(null=True)
    detail = DocumentField(null=True)

    class Meta:
        table_name = "audit_event"
        indexes = (
            (("token_id", "at"), False),
            (("at",), False),
        )


ALL_MODELS: list[type[BaseModel]] = [
    SchemaVersion,
    ResourceId,
    User,
    UserEmail,
    Group,
    Membership,
    AccessToken,
    AuditEvent,
]
