"""Queries rendered to SQL once and then run with fresh parameters.

Peewee spends 100-150 µs turning a query object into SQL, ten times what
running a simple indexed SELECT costs. On the paths every request takes
(token verification, reading one resource) that rendering would dominate, so
those queries are written once with Peewee, rendered once per database, and
run as plain SQL afterwards. Values come back as the driver returns them;
``convert`` applies the fields' own conversions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import peewee

from storage.database import database_proxy
from storage.filters import (
    And,
    AttributePath,
    Compare,
    Filter,
    Not,
    Or,
    Selection,
    ValuePath,
    attribute_paths,
)


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

    def render(self) -> None:
        """Render for the current database now; ValueError if impossible."""
        self._render(database_proxy.obj)

    def _render(self, db: peewee.Database) -> tuple[str, list[Any], list[int]]:
        rendered = self._rendered.get(id(db))
        if rendered is None:
            sql, params = self._build(*self._placeholders).sql()
            if any(params.count(p) != 1 for p in self._placeholders):
                raise ValueError("each placeholder must be exactly one parameter")
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


# Fields whose values come from both drivers already as Python wants them:
# their python_value would only coerce an int to int or a str to str.
_AS_RETURNED = (peewee.IntegerField, peewee.CharField, peewee.TextField)
Fields = Sequence[Any]
_converters: dict[int, tuple[Fields, list[Callable[[Any], Any] | None]]] = {}


def convert(fields: Fields, row: Sequence[Any]) -> list[Any]:
    """Apply each field's ``python_value`` to the matching raw column.

    A page of a hundred users converts a thousand values, so the fields
    whose conversion changes nothing are skipped, decided once per list of
    fields; ``fields`` is meant to be a module's constant, kept for good.
    """
    cached = _converters.get(id(fields))
    if cached is None or cached[0] is not fields:
        steps = [
            None
            if isinstance(field, _AS_RETURNED)
            and not isinstance(field, peewee.BooleanField)
            else field.python_value
            for field in fields
        ]
        cached = _converters[id(fields)] = (fields, steps)
    return [
        value if value is None or step is None else step(value)
        for step, value in zip(cached[1], row, strict=True)
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


class PreparedSelection:
    """Pages of a selection, their SQL rendered once per filter shape.

    Two filters that differ only in the strings they compare with, such as
    ``userName eq "a"`` and ``userName eq "b"``, render to the same SQL with
    different parameters. The first of a shape is rendered with a marker in
    place of each string, and later ones substitute theirs: the lookups
    identity providers make before every create then cost what running the
    query costs, not what building it does. Shapes whose SQL depends on the
    database's contents (filters through group memberships) or whose strings
    become part of a larger parameter (LIKE patterns) are rendered each time.
    """

    # Offsets and limits no request can ask for; markers for strings below.
    _OFFSET = -7_777_101
    _LIMIT = -7_777_102
    _MAX_SHAPES = 256

    def __init__(
        self,
        build: Callable[[Selection], peewee.Query],
        rendered_each_time: frozenset[str],
    ) -> None:
        self._build = build
        self._dynamic = rendered_each_time
        self._shapes: dict[tuple[int, Selection], PreparedQuery | None] = {}

    def rows(
        self, selection: Selection, offset: int, limit: int
    ) -> list[tuple[Any, ...]]:
        strings: list[str] = []
        shape = dataclasses.replace(
            selection,
            filter=None
            if selection.filter is None
            else _with_markers(selection.filter, strings),
        )
        # An empty string may compile to something else than a comparison
        # (it counts as absent), so it never stands for a marker.
        prepared = (
            None if "" in strings else self._prepared(shape, len(strings), selection)
        )
        if prepared is None:
            query = self._build(selection).offset(offset).limit(limit)
            sql, params = query.sql()
            return list(database_proxy.obj.execute_sql(sql, params).fetchall())
        return prepared.rows(*strings, offset, limit)

    def _prepared(
        self, shape: Selection, strings: int, selection: Selection
    ) -> PreparedQuery | None:
        key = (id(database_proxy.obj), shape)
        if key in self._shapes:
            return self._shapes[key]
        prepared: PreparedQuery | None = None
        touched = {path.name for path in _paths(selection)}
        if not touched & self._dynamic:
            markers = [_marker(i) for i in range(strings)]
            candidate = PreparedQuery(
                lambda *_: self._build(shape).offset(self._OFFSET).limit(self._LIMIT),
                *markers,
                self._OFFSET,
                self._LIMIT,
            )
            try:
                candidate.render()
                prepared = candidate
            except ValueError:
                prepared = None  # a marker is not a whole parameter
        if len(self._shapes) >= self._MAX_SHAPES:
            self._shapes.clear()
        self._shapes[key] = prepared
        return prepared


def _marker(index: int) -> str:
    return f"\x00scim-parameter-{index}\x00"


def _with_markers(node: Filter, strings: list[str]) -> Filter:
    """``node`` with each string it compares with replaced by a marker."""
    if isinstance(node, And | Or):
        return dataclasses.replace(
            node,
            left=_with_markers(node.left, strings),
            right=_with_markers(node.right, strings),
        )
    if isinstance(node, Not):
        return Not(_with_markers(node.inner, strings))
    if isinstance(node, ValuePath):
        return ValuePath(node.path, _with_markers(node.filter, strings))
    if isinstance(node, Compare) and isinstance(node.value, str):
        strings.append(node.value)
        return dataclasses.replace(node, value=_marker(len(strings) - 1))
    return node


def _paths(selection: Selection) -> list[AttributePath]:
    found = [] if selection.filter is None else list(attribute_paths(selection.filter))
    if selection.sort_by is not None:
        found.append(selection.sort_by)
    return found
