"""Verifying a presented token, and what verifying it records.

Each call reads the token's row, with its owner's state, in one indexed
query; nothing is cached. A revocation, an expiry, or the owner's
deactivation therefore takes effect on the next request, on every host.

Recording use without a write per request: the row read already carries
the last recorded use, and verify writes the time and client address only
when that is absent (the token's first use, which also goes to the audit
log) or older than ``LAST_USED_PRECISION``. A token in steady use costs one
small UPDATE a minute, and its ``last_used`` is accurate to a minute.

Refusals are recorded without letting a client that retries turn each
request into a write: a known token's refusal at most once per
``REJECTION_INTERVAL`` (an expiry only once), and tokens that match no row,
which anyone can make up, at most ``UNMATCHED_PER_MINUTE`` a minute across
all hosts. Tokens with a bad checksum or an unknown key id are refused
before any database access and are not recorded.

All of this recording is best effort: a failure to write is logged and the
request carries on, accepted or refused as it would have been.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import logging

from storage import audit as audit_store
from storage import tokens as token_store
from storage.database import transaction
from storage.tokens import TokenOwner
from tokens import audit
from tokens import format as token_format
from tokens.audit import Event, best_effort, clip_address
from tokens.errors import InvalidToken
from tokens.keys import KeyRing
from tokens.policy import TokenPolicy
from tokens.scopes import Scopes

log = logging.getLogger(__name__)

LAST_USED_PRECISION = datetime.timedelta(minutes=1)
REJECTION_INTERVAL = datetime.timedelta(minutes=1)
UNMATCHED_PER_MINUTE = 100


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified token speaks for, and what the token may do."""

    user_id: int
    user_name: str
    token_id: int
    is_admin: bool
    # None: everything the owner may do. Otherwise the token may do only
    # what these scopes allow of that, never more than the owner may.
    scopes: Scopes
    created: datetime.datetime
    expires: datetime.datetime | None


class _Refusal(enum.Enum):
    REVOKED = "revoked"
    EXPIRED = "expired"
    UNUSED = "unused too long"
    INACTIVE_OWNER = "owner inactive"


def verify(
    keys: KeyRing,
    token: str,
    *,
    now: datetime.datetime,
    address: str | None = None,
    policy: TokenPolicy | None = None,
) -> Principal:
    """Who ``token`` belongs to; raise InvalidToken for any reason it fails.

    ``address`` is the client's, kept as the token's last-used address and
    in audit records. With a ``policy`` that revokes unused tokens, a token
    idle for longer is refused and revoked here, so the rule holds between
    sweeps; without one, only the sweep enforces it.
    """
    address = clip_address(address)
    try:
        parts = token_format.parse(token)
        secret_hash = keys.hash(token, parts.key_id)
    except token_format.MalformedToken as ex:
        raise _reject(str(ex)) from None
    except KeyError:
        raise _reject("unknown key id") from None
    owner = token_store.find_token_owner(secret_hash)
    if owner is None:
        _note_unmatched(token_format.hint(token), now, address)
        raise _reject("no such token")
    cutoff = policy.unused_cutoff(now) if policy is not None else None
    refusal = _refusal(owner, now, cutoff)
    if refusal is not None:
        _note_refusal(owner, refusal, now, address, cutoff)
        raise _reject(f"token {owner.token_id} refused: {refusal.value}")
    _note_use(owner, now, address)
    return Principal(
        user_id=owner.user_id,
        user_name=owner.user_name,
        token_id=owner.token_id,
        is_admin=owner.is_admin,
        scopes=owner.scopes,
        created=owner.created,
        expires=owner.expires,
    )


def _refusal(
    owner: TokenOwner,
    now: datetime.datetime,
    unused_cutoff: datetime.datetime | None,
) -> _Refusal | None:
    if owner.revoked is not None:
        return _Refusal.REVOKED
    if owner.expires is not None and owner.expires <= now:
        return _Refusal.EXPIRED
    idle_since = owner.last_used or owner.created
    if unused_cutoff is not None and idle_since <= unused_cutoff:
        return _Refusal.UNUSED
    if not owner.user_active:
        return _Refusal.INACTIVE_OWNER
    return None


# TODO: on SQLite these best-effort writes wait for the write lock like any
# other, up to the busy timeout, when a long write holds it, and the request
# waits with them; a short timeout of their own, or handing them to one
# writer thread, would keep verification from ever waiting on the log.
def _note_use(owner: TokenOwner, now: datetime.datetime, address: str | None) -> None:
    if owner.last_used is None:
        with best_effort("a token's first use"), transaction():
            if token_store.record_first_use(owner.token_id, now, address):
                audit.record(
                    Event.FIRST_USED,
                    at=now,
                    actor_id=owner.user_id,
                    subject_id=owner.user_id,
                    token_id=owner.token_id,
                    address=address,
                )
        return
    stale = now - LAST_USED_PRECISION
    if owner.last_used < stale:
        with best_effort("a token's use"), transaction():
            token_store.record_use(owner.token_id, now, address, unless_since=stale)


def _note_refusal(
    owner: TokenOwner,
    refusal: _Refusal,
    now: datetime.datetime,
    address: str | None,
    unused_cutoff: datetime.datetime | None,
) -> None:
    if refusal is _Refusal.UNUSED and unused_cutoff is not None:
        _revoke_idle(owner, now, address, unused_cutoff)
        return
    # An expiry is noted once: a refusal noted after the expiry has it.
    # Other refusals at most once per interval, which shows that a dead
    # token is still being tried without a write for every retry.
    if refusal is _Refusal.EXPIRED and owner.expires is not None:
        since = owner.expires
        event = Event.EXPIRED
    else:
        since = now - REJECTION_INTERVAL
        event = Event.REJECTED
    if owner.last_rejected is not None and owner.last_rejected >= since:
        return
    with best_effort(f"a token {event.value} event"), transaction():
        if token_store.record_rejection(owner.token_id, now, unless_since=since):
            detail = {} if event is Event.EXPIRED else {"reason": refusal.value}
            audit.record(
                event,
                at=now,
                subject_id=owner.user_id,
                token_id=owner.token_id,
                address=address,
                **detail,
            )


def _revoke_idle(
    owner: TokenOwner,
    now: datetime.datetime,
    address: str | None,
    cutoff: datetime.datetime,
) -> None:
    with best_effort("the revocation of an unused token"), transaction():
        if token_store.revoke_unused(cutoff, now, token_id=owner.token_id):
            audit.record(
                Event.SWEPT,
                at=now,
                subject_id=owner.user_id,
                token_id=owner.token_id,
                address=address,
                unused_since=cutoff.isoformat(),
            )


def _note_unmatched(hint: str, now: datetime.datetime, address: str | None) -> None:
    # Anyone can make up a well-formed token, so these are capped: the first
    # few in a minute tell an operator that someone is guessing or holds a
    # deleted user's token, and the rest would only fill the log.
    with best_effort("a refusal of an unknown token"):
        recent = audit_store.count_events_without_token(
            Event.REJECTED.value,
            now - datetime.timedelta(minutes=1),
            UNMATCHED_PER_MINUTE,
        )
        if recent >= UNMATCHED_PER_MINUTE:
            return
        with transaction():
            audit.record(
                Event.REJECTED,
                at=now,
                address=address,
                hint=hint,
                reason="no such token",
            )


def _reject(reason: str) -> InvalidToken:
    log.debug("token rejected: %s", reason)
    return InvalidToken()
