"""Issuing and verifying personal access tokens."""

from __future__ import annotations

import dataclasses
import datetime
import logging

from storage import tokens as token_store
from storage.ids import IdSource, random_id
from tokens import format as token_format
from tokens.errors import InvalidToken, TokenPolicyError
from tokens.keys import KeyRing

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly issued token: the only moment its secret is known."""

    id: int
    token: str
    hint: str
    expires: datetime.datetime | None

    def __repr__(self) -> str:
        # Keep the secret out of tracebacks and debug output.
        return f"IssuedToken(id={self.id}, hint={self.hint!r})"


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified token speaks for."""

    user_id: int
    user_name: str
    token_id: int
    is_admin: bool


# Asked for as a lifetime, this means "never expires"; None means "the
# policy's default".
NO_EXPIRY = datetime.timedelta.max


@dataclasses.dataclass(frozen=True, slots=True)
class TokenPolicy:
    default_lifetime: datetime.timedelta | None
    max_lifetime: datetime.timedelta | None

    def expiry(
        self, now: datetime.datetime, lifetime: datetime.timedelta | None
    ) -> datetime.datetime | None:
        """When a token asked for with ``lifetime`` expires (None: never).

        A lifetime above the maximum is refused rather than shortened, so the
        caller never holds a token that dies earlier than it asked for.
        """
        chosen = lifetime if lifetime is not None else self.default_lifetime
        if chosen == NO_EXPIRY:
            chosen = None
        if chosen is not None and chosen <= datetime.timedelta(0):
            raise TokenPolicyError("token lifetime must be positive")
        if self.max_lifetime is not None and (
            chosen is None or chosen > self.max_lifetime
        ):
            raise TokenPolicyError(f"token lifetime may not exceed {self.max_lifetime}")
        return None if chosen is None else now + chosen


def issue(
    keys: KeyRing,
    policy: TokenPolicy,
    *,
    user_id: int,
    now: datetime.datetime,
    lifetime: datetime.timedelta | None = None,
    comment: str | None = None,
    id_source: IdSource = random_id,
) -> IssuedToken:
    """Create a token for ``user_id``; its secret is in the result only."""
    expires = policy.expiry(now, lifetime)
    token = token_format.generate(keys.current)
    hint = token_format.hint(token)
    token_id = token_store.insert_token(
        user_id=user_id,
        key_id=keys.current,
        secret_hash=keys.hash(token, keys.current),
        hint=hint,
        comment=comment,
        created=now,
        expires=expires,
        id_source=id_source,
    )
    log.info("issued token %d for user %d", token_id, user_id)
    return IssuedToken(id=token_id, token=token, hint=hint, expires=expires)


def verify(keys: KeyRing, token: str, *, now: datetime.datetime) -> Principal:
    """Who ``token`` belongs to; raise InvalidToken for any reason it fails."""
    try:
        parts = token_format.parse(token)
        secret_hash = keys.hash(token, parts.key_id)
    except token_format.MalformedToken as ex:
        raise _reject(str(ex)) from None
    except KeyError:
        raise _reject("unknown key id") from None
    owner = token_store.find_token_owner(secret_hash)
    if owner is None:
        raise _reject("no such token")
    if owner.revoked is not None:
        raise _reject(f"token {owner.token_id} is revoked")
    if owner.expires is not None and owner.expires <= now:
        raise _reject(f"token {owner.token_id} expired")
    if not owner.user_active:
        raise _reject(f"token {owner.token_id} belongs to an inactive user")
    return Principal(
        user_id=owner.user_id,
        user_name=owner.user_name,
        token_id=owner.token_id,
        is_admin=owner.is_admin,
    )


def _reject(reason: str) -> InvalidToken:
    log.debug("token rejected: %s", reason)
    return InvalidToken()
