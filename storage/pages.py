"""Keyset pages: a run of rows after (or before) a position in an order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from storage.compiler import Position, select_after
from storage.database import rows as raw_rows
from storage.filters import Selection

RecordT = TypeVar("RecordT")


def keyset_page(
    query: Any,
    resource_type: str,
    selection: Selection,
    after: Position | None,
    limit: int,
    to_record: Callable[[Any], RecordT],
    *,
    backwards: bool = False,
) -> list[tuple[RecordT, Position]]:
    """Up to ``limit`` rows following ``after``, each with its own position.

    Backwards pages come back in the selection's order all the same, so a
    caller can render either kind alike.
    """
    rows, key = select_after(
        query, resource_type, selection, after, backwards=backwards
    )
    # Each row is the query's columns, id first, then the sort key.
    page = [
        (to_record(row), key.position(row[-1], row[0]))
        for row in raw_rows(rows.limit(limit))
    ]
    return page[::-1] if backwards else page
