"""Queries on personal access tokens.

A token's scopes are kept as one space-separated, sorted string, NULL for a
token that carries its owner's full rights; the functions here take and
return frozensets, so no caller depends on that encoding.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from typing import Any

import peewee

from storage import ids
from storage.database import locking, rows, transaction
from storage.groups import in_builtin_group
from storage.models import AccessToken, User
from storage.prepared import PreparedQuery, convert

Scopes = frozenset[str] | None


@dataclasses.dataclass(frozen=True, slots=True)
class TokenOwner:
    """What verifying a token needs to know, read in one query."""

    token_id: int
    user_id: int
    user_name: str
    user_active: bool
    is_admin: bool
    scopes: Scopes
    created: datetime.datetime
    expires: datetime.datetime | None
    revoked: datetime.datetime | None
    last_used: datetime.datetime | None
    last_rejected: datetime.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class TokenRecord:
    """A token as its owner and admins may see it: never its secret's hash."""

    id: int
    user_id: int
    key_id: str
    hint: str
    comment: str | None
    scopes: Scopes
    created: datetime.datetime
    expires: datetime.datetime | None
    revoked: datetime.datetime | None
    last_used: datetime.datetime | None
    last_used_address: str | None

    def is_live(self, now: datetime.datetime) -> bool:
        """Whether the token is neither revoked nor expired at ``now``."""
        return self.revoked is None and (self.expires is None or now < self.expires)


def encode_scopes(scopes: Scopes) -> str | None:
    return None if scopes is None else " ".join(sorted(scopes))


def decode_scopes(stored: str | None) -> Scopes:
    return None if stored is None else frozenset(stored.split())


def insert_token(
    *,
    user_id: int,
    key_id: str,
    secret_hash: str,
    hint: str,
    comment: str | None,
    created: datetime.datetime,
    expires: datetime.datetime | None,
    scopes: Scopes = None,
    id_source: ids.IdSource = ids.random_id,
) -> int:
    with transaction():
        token_id = ids.allocate("Token", id_source)
        AccessToken.insert(
            id=token_id,
            user=user_id,
            key_id=key_id,
            secret_hash=secret_hash,
            hint=hint,
            comment=comment,
            scopes=encode_scopes(scopes),
            created=created,
            expires=expires,
        ).execute()
    return token_id


def _token_owner_query(secret_hash: str) -> peewee.Query:
    return (
        AccessToken.select(
            AccessToken.id,
            AccessToken.user,
            User.user_name,
            User.active,
            # Members of groups nested inside admins are admins too.
            in_builtin_group(User.id, "admins").alias("is_admin"),
            AccessToken.scopes,
            AccessToken.created,
            AccessToken.expires,
            AccessToken.revoked,
            AccessToken.last_used,
            AccessToken.last_rejected,
        )
        .join(User, on=(User.id == AccessToken.user))
        .where(AccessToken.secret_hash == secret_hash)
        .limit(1)
    )


# Every authenticated request runs this: render its SQL once.
_TOKEN_OWNER = PreparedQuery(_token_owner_query, "prepared-secret-hash")

_TIMES = (
    AccessToken.created,
    AccessToken.expires,
    AccessToken.revoked,
    AccessToken.last_used,
    AccessToken.last_rejected,
)


def find_token_owner(secret_hash: str) -> TokenOwner | None:
    """The token with this hash and its owner, with admin membership."""
    found = _TOKEN_OWNER.rows(secret_hash)
    if not found:
        return None
    token_id, user_id, user_name, active, admin, scopes, *times = found[0]
    created, expires, revoked, last_used, last_rejected = convert(_TIMES, times)
    return TokenOwner(
        token_id=token_id,
        user_id=user_id,
        user_name=user_name,
        user_active=bool(active),
        is_admin=bool(admin),
        scopes=decode_scopes(scopes),
        created=created,
        expires=expires,
        revoked=revoked,
        last_used=last_used,
        last_rejected=last_rejected,
    )


_RECORD_COLUMNS = (
    AccessToken.id,
    AccessToken.user,
    AccessToken.key_id,
    AccessToken.hint,
    AccessToken.comment,
    AccessToken.scopes,
    AccessToken.created,
    AccessToken.expires,
    AccessToken.revoked,
    AccessToken.last_used,
    AccessToken.last_used_address,
)


def _record(row: Sequence[Any]) -> TokenRecord:
    (
        token_id,
        user_id,
        key_id,
        hint,
        comment,
        scopes,
        created,
        expires,
        revoked,
        last_used,
        last_used_address,
    ) = convert(_RECORD_COLUMNS, row)
    return TokenRecord(
        id=token_id,
        user_id=user_id,
        key_id=key_id,
        hint=hint,
        comment=comment,
        scopes=decode_scopes(scopes),
        created=created,
        expires=expires,
        revoked=revoked,
        last_used=last_used,
        last_used_address=last_used_address,
    )


def find_token(token_id: int) -> TokenRecord | None:
    query = AccessToken.select(*_RECORD_COLUMNS).where(AccessToken.id == token_id)
    found = list(rows(query))
    return _record(found[0]) if found else None


def lock_token(token_id: int) -> TokenRecord | None:
    """Read a token for a read-modify-write; call inside ``transaction()``."""
    query = AccessToken.select(*_RECORD_COLUMNS).where(AccessToken.id == token_id)
    found = list(rows(locking(query)))
    return _record(found[0]) if found else None


def list_tokens(user_id: int | None = None) -> list[TokenRecord]:
    """Tokens of ``user_id``, or of everyone, oldest first, revoked included."""
    query = AccessToken.select(*_RECORD_COLUMNS).order_by(
        AccessToken.created, AccessToken.id
    )
    if user_id is not None:
        query = query.where(AccessToken.user == user_id)
    return [_record(row) for row in rows(query)]


def _live(now: datetime.datetime) -> peewee.Expression:
    return AccessToken.revoked.is_null() & (
        AccessToken.expires.is_null() | (AccessToken.expires > now)
    )


def count_live_tokens(
    user_id: int, now: datetime.datetime, *, excluding: int | None = None
) -> int:
    """How many of the user's tokens are neither revoked nor expired."""
    condition = (AccessToken.user == user_id) & _live(now)
    if excluding is not None:
        condition &= AccessToken.id != excluding
    return int(AccessToken.select().where(condition).count())


def count_live_tokens_under_key(key_id: str, now: datetime.datetime) -> int:
    query = AccessToken.select().where((AccessToken.key_id == key_id) & _live(now))
    return int(query.count())


def revoke_token(token_id: int, now: datetime.datetime) -> bool:
    """Revoke one token; False if it does not exist or was already revoked."""
    changed = (
        AccessToken.update(revoked=now)
        .where((AccessToken.id == token_id) & AccessToken.revoked.is_null())
        .execute()
    )
    return bool(changed)


def lower_expiry(token_id: int, until: datetime.datetime) -> None:
    """Make the token expire at ``until``, unless it already expires sooner."""
    (
        AccessToken.update(expires=until)
        .where(
            (AccessToken.id == token_id)
            & (AccessToken.expires.is_null() | (AccessToken.expires > until))
        )
        .execute()
    )


def record_first_use(
    token_id: int, now: datetime.datetime, address: str | None
) -> bool:
    """Note the token's first use; False if another request noted it first."""
    changed = (
        AccessToken.update(last_used=now, last_used_address=address)
        .where((AccessToken.id == token_id) & AccessToken.last_used.is_null())
        .execute()
    )
    return bool(changed)


def record_use(
    token_id: int,
    now: datetime.datetime,
    address: str | None,
    *,
    unless_since: datetime.datetime,
) -> None:
    """Note a use, unless one at or after ``unless_since`` is already noted."""
    (
        AccessToken.update(last_used=now, last_used_address=address)
        .where((AccessToken.id == token_id) & (AccessToken.last_used < unless_since))
        .execute()
    )


def record_rejection(
    token_id: int, now: datetime.datetime, *, unless_since: datetime.datetime
) -> bool:
    """Note a refusal unless one at or after ``unless_since`` is noted.

    True when this call noted it, so exactly one of several concurrent
    refusals goes on to write the audit record.
    """
    changed = (
        AccessToken.update(last_rejected=now)
        .where(
            (AccessToken.id == token_id)
            & (
                AccessToken.last_rejected.is_null()
                | (AccessToken.last_rejected < unless_since)
            )
        )
        .execute()
    )
    return bool(changed)


def revoke_unused(
    cutoff: datetime.datetime,
    now: datetime.datetime,
    *,
    token_id: int | None = None,
) -> list[tuple[int, int]]:
    """Revoke live tokens unused since ``cutoff``, in one UPDATE.

    A token never used counts from its creation. Returns the (token id,
    owner id) of each token revoked; ``token_id`` limits this to one token.
    """
    idle = (AccessToken.last_used <= cutoff) | (
        AccessToken.last_used.is_null() & (AccessToken.created <= cutoff)
    )
    condition = _live(now) & idle
    if token_id is not None:
        condition &= AccessToken.id == token_id
    return _revoke_where(condition, now)


def revoke_tokens_under_key(
    key_id: str, now: datetime.datetime
) -> list[tuple[int, int]]:
    """Revoke every live token hashed under ``key_id``, in one UPDATE."""
    return _revoke_where((AccessToken.key_id == key_id) & _live(now), now)


def _revoke_where(
    condition: peewee.Expression, now: datetime.datetime
) -> list[tuple[int, int]]:
    query = (
        AccessToken.update(revoked=now)
        .where(condition)
        .returning(AccessToken.id, AccessToken.user)
    )
    return [(token_id, user_id) for token_id, user_id in query.tuples().execute()]
