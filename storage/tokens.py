"""Queries on personal access tokens."""

from __future__ import annotations

import dataclasses
import datetime

import peewee

from storage import ids
from storage.database import transaction
from storage.models import AccessToken, Group, Membership, User
from storage.prepared import PreparedQuery


@dataclasses.dataclass(frozen=True, slots=True)
class TokenOwner:
    """What verifying a token needs to know, read in one query."""

    token_id: int
    user_id: int
    user_name: str
    user_active: bool
    is_admin: bool
    expires: datetime.datetime | None
    revoked: datetime.datetime | None


def insert_token(
    *,
    user_id: int,
    key_id: str,
    secret_hash: str,
    hint: str,
    comment: str | None,
    created: datetime.datetime,
    expires: datetime.datetime | None,
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
            created=created,
            expires=expires,
        ).execute()
    return token_id


def _token_owner_query(secret_hash: str) -> peewee.Query:
    is_admin = (
        Membership.select(peewee.SQL("1"))
        .join(Group, on=(Group.id == Membership.group))
        .where((Group.builtin == "admins") & (Membership.member_id == User.id))
    )
    return (
        AccessToken.select(
            AccessToken.id,
            AccessToken.user,
            User.user_name,
            User.active,
            peewee.fn.EXISTS(is_admin).alias("is_admin"),
            AccessToken.expires,
            AccessToken.revoked,
        )
        .join(User, on=(User.id == AccessToken.user))
        .where(AccessToken.secret_hash == secret_hash)
        .limit(1)
    )


# Every authenticated request runs this: render its SQL once.
_TOKEN_OWNER = PreparedQuery(_token_owner_query, "prepared-secret-hash")


def find_token_owner(secret_hash: str) -> TokenOwner | None:
    """The token with this hash and its owner, with admin membership."""
    found = _TOKEN_OWNER.rows(secret_hash)
    if not found:
        return None
    token_id, user_id, user_name, active, admin, expires, revoked = found[0]
    return TokenOwner(
        token_id=token_id,
        user_id=user_id,
        user_name=user_name,
        user_active=bool(active),
        is_admin=bool(admin),
        expires=None if expires is None else AccessToken.expires.python_value(expires),
        revoked=None if revoked is None else AccessToken.revoked.python_value(revoked),
    )
