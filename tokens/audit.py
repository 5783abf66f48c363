"""What happens to tokens, written to the audit log.

Changes made on purpose (a token created, revoked, rotated or swept) are
recorded in the transaction that makes them, so a change and its record land
together or not at all. What verification notices on the way (a first use,
an expiry, a refusal) is recorded on a best-effort basis instead: a request
must never fail because its audit record could not be written.

No record holds a token's secret. A token that matches no row is named by
its hint, which shows the key id and four of the secret's 32 characters.
"""

from __future__ import annotations

import contextlib
import datetime
import enum
import logging
from collections.abc import Iterator
from typing import Any

import peewee

from storage import audit as audit_store
from storage.audit import AuditRecord

log = logging.getLogger(__name__)

# Long enough for any IPv6 address with a zone; the address may come from a
# proxy header the client wrote, so its length is the client's choice.
MAX_ADDRESS_LENGTH = 64


class Event(enum.StrEnum):
    CREATED = "created"
    FIRST_USED = "first_used"
    REVOKED = "revoked"
    EXPIRED = "expired"
    REJECTED = "rejected"
    ROTATED = "rotated"
    SWEPT = "swept"


def entry(
    event: Event,
    *,
    at: datetime.datetime,
    actor_id: int | None = None,
    subject_id: int | None = None,
    token_id: int | None = None,
    address: str | None = None,
    **detail: Any,
) -> AuditRecord:
    """One audit record; ``actor_id`` None stands for the server or its CLI."""
    return AuditRecord(
        at=at,
        event=event.value,
        actor_id=actor_id,
        subject_id=subject_id,
        token_id=token_id,
        address=clip_address(address),
        detail=detail or None,
    )


def record(event: Event, *, at: datetime.datetime, **fields: Any) -> None:
    """Append one event; see ``entry`` for the fields."""
    audit_store.append([entry(event, at=at, **fields)])


def clip_address(address: str | None) -> str | None:
    return None if address is None else address[:MAX_ADDRESS_LENGTH]


@contextlib.contextmanager
def best_effort(what: str) -> Iterator[None]:
    """Run the block, logging rather than raising a database error.

    Put the block's writes in a ``transaction()`` inside it, so that a
    failure rolls back those writes alone, even within a caller's
    transaction. Only database errors are caught: anything else is a bug
    and should surface.
    """
    try:
        yield
    except (peewee.DatabaseError, peewee.InterfaceError):
        log.warning("could not record %s", what, exc_info=True)
