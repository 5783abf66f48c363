"""Issuing, listing, rotating and revoking tokens, and retiring their keys.

Every change is recorded in the audit log in the transaction that makes it.
These functions decide nothing about who may call them: the caller has
already made the authorisation decision and passes the acting user's id
(None for the command line) for the audit record.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Iterable

from storage import audit as audit_store
from storage import tokens as token_store
from storage import users as user_store
from storage.database import transaction
from storage.ids import IdSource, random_id
from storage.tokens import TokenRecord
from tokens import audit
from tokens import format as token_format
from tokens.audit import Event
from tokens.errors import KeyInUse, TokenNotFound, TokenPolicyError, TokenQuotaExceeded
from tokens.keys import KeyRing
from tokens.policy import TokenPolicy
from tokens.scopes import Scopes, parse_scopes

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


def issue(
    keys: KeyRing,
    policy: TokenPolicy,
    *,
    user_id: int,
    now: datetime.datetime,
    lifetime: datetime.timedelta | None = None,
    comment: str | None = None,
    scopes: Iterable[str] | None = None,
    actor_id: int | None = None,
    address: str | None = None,
    id_source: IdSource = random_id,
) -> IssuedToken:
    """Create a token for ``user_id``; its secret is in the result only.

    ``scopes`` None gives the token its owner's full rights (see
    ``tokens.scopes``). Raises TokenPolicyError for a lifetime or scopes the
    policy refuses or an owner that does not exist, and TokenQuotaExceeded
    when the owner already holds ``policy.quota`` live tokens.
    """
    granted = parse_scopes(scopes)
    expires = policy.expiry(now, lifetime)
    with transaction():
        _check_quota(policy, user_id, now)
        issued = _insert(keys, user_id, now, expires, comment, granted, id_source)
        audit.record(
            Event.CREATED,
            at=now,
            actor_id=actor_id,
            subject_id=user_id,
            token_id=issued.id,
            address=address,
        )
    log.info("issued token %d for user %d", issued.id, user_id)
    return issued


def rotate(
    keys: KeyRing,
    policy: TokenPolicy,
    token_id: int,
    *,
    now: datetime.datetime,
    grace: datetime.timedelta,
    lifetime: datetime.timedelta | None = None,
    actor_id: int | None = None,
    address: str | None = None,
    id_source: IdSource = random_id,
) -> IssuedToken:
    """Issue a replacement for a token and let the old one run out.

    The replacement has the old token's owner, comment and scopes, a
    lifetime from the policy, and the current key. The old token keeps
    working for ``grace``: its expiry is lowered to ``now + grace`` if that
    is sooner, never raised. The old token does not count against the
    owner's quota, since it is on its way out. Raises TokenNotFound, and
    TokenPolicyError for a token that is already revoked or expired.
    """
    if grace < datetime.timedelta(0):
        raise TokenPolicyError("the grace period must not be negative")
    expires = policy.expiry(now, lifetime)
    with transaction():
        old = token_store.lock_token(token_id)
        if old is None:
            raise TokenNotFound(token_id)
        if not old.is_live(now):
            raise TokenPolicyError(
                f"token {token_id} is revoked or expired; issue a new one instead"
            )
        _check_quota(policy, old.user_id, now, excluding=old.id)
        issued = _insert(
            keys, old.user_id, now, expires, old.comment, old.scopes, id_source
        )
        old_expires = now + grace
        if old.expires is not None:
            old_expires = min(old.expires, old_expires)
        token_store.lower_expiry(old.id, old_expires)
        _record_rotation(old, issued, old_expires, now, actor_id, address)
    log.info("rotated token %d into %d", old.id, issued.id)
    return issued


def revoke(
    token_id: int,
    *,
    now: datetime.datetime,
    actor_id: int | None = None,
    address: str | None = None,
) -> bool:
    """Revoke a token, effective on the next request everywhere.

    Returns False, changing nothing, if it was revoked already; raises
    TokenNotFound if there is no such token.
    """
    with transaction():
        token = token_store.find_token(token_id)
        if token is None:
            raise TokenNotFound(token_id)
        if not token_store.revoke_token(token_id, now):
            return False
        audit.record(
            Event.REVOKED,
            at=now,
            actor_id=actor_id,
            subject_id=token.user_id,
            token_id=token_id,
            address=address,
        )
    log.info("revoked token %d", token_id)
    return True


def list_tokens(user_id: int | None = None) -> list[TokenRecord]:
    """Tokens of one user, or of everyone, oldest first, revoked included.

    No secret and no hash of one is in the result.
    """
    return token_store.list_tokens(user_id)


def find_token(token_id: int) -> TokenRecord | None:
    return token_store.find_token(token_id)


def revoke_unused(policy: TokenPolicy, *, now: datetime.datetime) -> list[int]:
    """Revoke every live token idle for ``policy.unused_limit``; their ids.

    One UPDATE finds and revokes them, so the cost does not grow with the
    number revoked. A token never used counts as idle from its creation.
    """
    cutoff = policy.unused_cutoff(now)
    if cutoff is None:
        return []
    with transaction():
        revoked = token_store.revoke_unused(cutoff, now)
        audit_store.append(
            [
                audit.entry(
                    Event.SWEPT,
                    at=now,
                    subject_id=user_id,
                    token_id=token_id,
                    unused_since=cutoff.isoformat(),
                )
                for token_id, user_id in revoked
            ]
        )
    if revoked:
        log.info("revoked %d tokens unused since %s", len(revoked), cutoff)
    return [token_id for token_id, _ in revoked]


def retire_key(
    keys: KeyRing,
    key_id: str,
    *,
    now: datetime.datetime,
    revoke_tokens: bool = False,
    actor_id: int | None = None,
) -> tuple[KeyRing, int]:
    """The ring without ``key_id``, and how many tokens were revoked for it.

    Tokens hashed under a key stop verifying once it leaves the ring, so a
    key that live tokens still use is kept (KeyInUse) unless
    ``revoke_tokens``, which revokes them first, on the record. The current
    key cannot be retired: rotate first. The caller saves the new ring.
    """
    remaining = keys.without(key_id)
    with transaction():
        live = token_store.count_live_tokens_under_key(key_id, now)
        if live and not revoke_tokens:
            raise KeyInUse(f"key {key_id!r} is still in use by live tokens ({live})")
        revoked = token_store.revoke_tokens_under_key(key_id, now)
        audit_store.append(
            [
                audit.entry(
                    Event.REVOKED,
                    at=now,
                    actor_id=actor_id,
                    subject_id=user_id,
                    token_id=token_id,
                    reason="key retired",
                    key_id=key_id,
                )
                for token_id, user_id in revoked
            ]
        )
    log.info("retired key %s, revoking %d tokens", key_id, len(revoked))
    return remaining, len(revoked)


def _check_quota(
    policy: TokenPolicy,
    user_id: int,
    now: datetime.datetime,
    *,
    excluding: int | None = None,
) -> None:
    # Locking the owner makes concurrent requests for the same user's
    # tokens take turns, so two of them cannot both see room for one more.
    if user_store.lock_user(user_id) is None:
        raise TokenPolicyError(f"no user {user_id}")
    if policy.quota is None:
        return
    live = token_store.count_live_tokens(user_id, now, excluding=excluding)
    if live >= policy.quota:
        raise TokenQuotaExceeded(user_id, policy.quota)


def _insert(
    keys: KeyRing,
    user_id: int,
    now: datetime.datetime,
    expires: datetime.datetime | None,
    comment: str | None,
    scopes: Scopes,
    id_source: IdSource,
) -> IssuedToken:
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
        scopes=scopes,
        id_source=id_source,
    )
    return IssuedToken(id=token_id, token=token, hint=hint, expires=expires)


def _record_rotation(
    old: TokenRecord,
    new: IssuedToken,
    old_expires: datetime.datetime,
    now: datetime.datetime,
    actor_id: int | None,
    address: str | None,
) -> None:
    created = audit.entry(
        Event.CREATED,
        at=now,
        actor_id=actor_id,
        subject_id=old.user_id,
        token_id=new.id,
        address=address,
        replaces=old.id,
    )
    rotated = audit.entry(
        Event.ROTATED,
        at=now,
        actor_id=actor_id,
        subject_id=old.user_id,
        token_id=old.id,
        address=address,
        replacement=new.id,
        expires=old_expires.isoformat(),
    )
    audit_store.append([created, rotated])
