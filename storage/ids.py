"""Resource ids: random positive 63-bit integers, unique and never reused.

SCIM treats ids as opaque strings; the Databricks API carries the same ids as
integers (its SDK runs them through ``int()``), so a decimal string of a
random 63-bit integer serves both. Randomness makes ids unguessable; the
``ResourceId`` table makes them unique across resource types and over time.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from storage.models import ResourceId
from storage.prepared import PreparedQuery

IdSource = Callable[[], int]

MAX_ATTEMPTS = 8


def random_id() -> int:
    """A uniformly random integer in [1, 2**63 - 1]."""
    return secrets.randbelow(2**63 - 1) + 1


# Every create runs this; render it once.
_RESERVE = PreparedQuery(
    lambda id_, kind: ResourceId.insert(id=id_, kind=kind).on_conflict_ignore(),
    -7_777_777,
    "prepared-kind",
)


def allocate(kind: str, id_source: IdSource = random_id) -> int:
    """Reserve a fresh id for a resource of ``kind``; call inside a transaction.

    A collision is astronomically unlikely with a random source, but a test's
    deterministic source can collide, so retry a few times before giving up.
    """
    for _ in range(MAX_ATTEMPTS):
        candidate = id_source()
        if _RESERVE.execute(candidate, kind).rowcount:
            return candidate
    raise RuntimeError(f"no free id after {MAX_ATTEMPTS} attempts")


def parse_id(text: str) -> int | None:
    """The integer behind a resource id string, or None if it cannot be one.

    Ids are compared as exact strings (RFC 7643 §3.1), so only the canonical
    decimal spelling names a resource: "01" is not the id "1".
    """
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    if text.startswith("0"):
        return None
    value = int(text)
    return value if 0 < value < 2**63 else None
