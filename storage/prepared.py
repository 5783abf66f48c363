"""Queries rendered to SQL once and then run with fresh parameters.

Peewee spends 100-150 µs turning a query object into SQL, ten times what
running a simple indexed SELECT costs. On the paths every request takes
(token verification, reading one resource) that rendering would dominate, so
those queries are written once with Peewee, rendered once per database, and
run as plain SQL afterwards. Values come back as the driver returns them;
``convert`` applies the fields' own conversions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import peewee

from storage.database import database_proxy


class PreparedQuery:
    """A query built by ``build(*placeholders)``, run with other values.

    Each placeholder must be a value that appears exactly once among the
    rendered query's parameters; running the query substitutes the caller's
    values at those positions and keeps every other parameter (constants
    such as LIMIT 1) as rendered.
    """

    def __init__(
        self, build: Callable[..., peewee.Query], *placeholders: object
    ) -> None:
        self._build = build
        self._placeholders = placeholders
        self._rendered: dict[int, tuple[str, list[Any], list[int]]] = {}

    def _render(self, db: peewee.Database) -> tuple[str, list[Any], list[int]]:
        rendered = self._rendered.get(id(db))
        if rendered is None:
            sql, params = self._build(*self._placeholders).sql()
            positions = [params.index(p) for p in self._placeholders]
            if sorted(positions) != sorted(set(positions)):
                raise ValueError("placeholders must be distinct parameters")
            rendered = (sql, list(params), positions)
            self._rendered[id(db)] = rendered
        return rendered

    def rows(self, *values: object) -> list[tuple[Any, ...]]:
        db = database_proxy.obj
        sql, params, positions = self._render(db)
        bound = list(params)
        for position, value in zip(positions, values, strict=True):
            bound[position] = value
        cursor = db.execute_sql(sql, bound)
        return list(cursor.fetchall())


def convert(fields: Sequence[Any], row: Sequence[Any]) -> list[Any]:
    """Apply each field's ``python_value`` to the matching raw column."""
    return [
        None if value is None else field.python_value(value)
        for field, value in zip(fields, row, strict=True)
    ]
