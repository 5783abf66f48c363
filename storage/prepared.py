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

    def execute(self, *values: object) -> Any:
        """Run the statement; return the driver's cursor."""
        db = database_proxy.obj
        sql, params, positions = self._render(db)
        bound = list(params)
        for position, value in zip(positions, values, strict=True):
            bound[position] = value
        return db.execute_sql(sql, bound)

    def rows(self, *values: object) -> list[tuple[Any, ...]]:
        return list(self.execute(*values).fetchall())


class PreparedInQuery:
    """A query on ``column IN (...)`` prepared once for each list length.

    Pages have a handful of sizes, so the cache stays small; rendering a
    hundred-element IN list is otherwise the slowest part of reading a page's
    memberships.
    """

    def __init__(self, build: Callable[[list[int]], peewee.Query]) -> None:
        self._build = build
        self._by_length: dict[int, PreparedQuery] = {}

    def rows(self, values: Sequence[int]) -> list[tuple[Any, ...]]:
        count = len(values)
        prepared = self._by_length.get(count)
        if prepared is None:
            # Placeholders no real id can equal: ids are positive.
            placeholders = [-1_000_000 - i for i in range(count)]
            prepared = PreparedQuery(lambda *ids: self._build(list(ids)), *placeholders)
            self._by_length[count] = prepared
        return prepared.rows(*values)


def convert(fields: Sequence[Any], row: Sequence[Any]) -> list[Any]:
    """Apply each field's ``python_value`` to the matching raw column."""
    return [
        None if value is None else field.python_value(value)
        for field, value in zip(fields, row, strict=True)
    ]


class PreparedInsert:
    """``INSERT INTO table (columns) VALUES (...)``, written once per database.

    Values pass through each field's ``db_value``, as Peewee's own inserts
    do, so what lands in the table is the same either way.
    """

    def __init__(self, model: Any, fields: Sequence[Any]) -> None:
        self._table = model._meta.table_name
        self._fields = tuple(fields)
        self._sql: dict[int, str] = {}

    def _render(self, db: Any) -> str:
        sql = self._sql.get(id(db))
        if sql is None:
            open_quote, close_quote = db.quote[0], db.quote[1]

            def quoted(name: str) -> str:
                return f"{open_quote}{name}{close_quote}"

            columns = ", ".join(quoted(field.column_name) for field in self._fields)
            params = ", ".join(db.param for _ in self._fields)
            # Names come from the model, never from a request.
            sql = f"INSERT INTO {quoted(self._table)} ({columns}) VALUES ({params})"  # noqa: S608
            self._sql[id(db)] = sql
        return sql

    def execute(self, *values: Any) -> None:
        db = database_proxy.obj
        bound = [
            None if value is None else field.db_value(value)
            for field, value in zip(self._fields, values, strict=True)
        ]
        db.execute_sql(self._render(db), bound)
