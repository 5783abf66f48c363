"""The token audit log: rows are appended and read, never changed.

What the events mean is ``tokens``' business; this module stores and finds
them. Nothing written here may contain a token's secret.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from typing import Any

from storage.database import rows
from storage.models import AuditEvent
from storage.prepared import convert


@dataclasses.dataclass(frozen=True, slots=True)
class AuditRecord:
    at: datetime.datetime
    event: str
    actor_id: int | None = None
    subject_id: int | None = None
    token_id: int | None = None
    address: str | None = None
    detail: dict[str, Any] | None = None


_COLUMNS = (
    AuditEvent.at,
    AuditEvent.event,
    AuditEvent.actor_id,
    AuditEvent.subject_id,
    AuditEvent.token_id,
    AuditEvent.address,
    AuditEvent.detail,
)


# TODO: the log is never pruned, so it grows with every token event for the
# life of the database; a retention setting and a command that deletes rows
# older than it, by the index on ``at``, would bound it.
def append(records: Sequence[AuditRecord]) -> None:
    if not records:
        return
    rows = [dataclasses.astuple(record) for record in records]
    AuditEvent.insert_many(rows, fields=_COLUMNS).execute()


def count_events_without_token(event: str, since: datetime.datetime, limit: int) -> int:
    """How many ``event`` rows naming no token exist from ``since``, up to ``limit``.

    Counting stops at ``limit``, so the cost stays small however many there are.
    """
    query = (
        AuditEvent.select(AuditEvent.id)
        .where(
            (AuditEvent.at >= since)
            & (AuditEvent.event == event)
            & AuditEvent.token_id.is_null()
        )
        .limit(limit)
    )
    return int(query.count())


def list_events(
    *,
    token_id: int | None = None,
    since: datetime.datetime | None = None,
    limit: int = 100,
) -> list[AuditRecord]:
    """The newest events first, of one token or of all, from ``since``."""
    query = AuditEvent.select(*_COLUMNS)
    if token_id is not None:
        query = query.where(AuditEvent.token_id == token_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    return [AuditRecord(*convert(_COLUMNS, row)) for row in rows(query)]
