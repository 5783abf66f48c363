"""Compiling resolved filters (``storage.filters``) into Peewee expressions.

Every filter becomes one SQL condition evaluated by the database; nothing is
filtered in Python. Attributes are answered, in order of preference, from:

- a column of the resource's own table (userName, externalId, active, meta
  timestamps, group displayName), through its index;
- a child table keyed ``(value, parent)`` (emails, group members), as an
  uncorrelated ``id IN (SELECT parent ...)``, which both databases answer
  from an index; a user's groups, direct and inherited, are the members
  of the groups that match and of the groups nested in them, which one
  query finds while the filter is compiled (``storage.nesting``), so that
  the filter itself names them;
- the ``search`` JSON document, through the database's JSON functions, for
  every other attribute: slower, but still evaluated in the database.

Comparisons follow the semantics stated in ``storage.filters``. Each one is
written so that it is never NULL (``x IS NOT NULL AND x op v``), which keeps
``NOT`` two-valued: ``not (title eq "x")`` matches users without a title.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

import peewee

from storage.database import database_proxy, is_postgresql
from storage.filters import (
    And,
    AttributePath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    Selection,
    UnsupportedFilter,
    Value,
    ValuePath,
    fixed_width_timestamp,
)
from storage.ids import parse_id
from storage.models import Group, Membership, User, UserEmail
from storage.nesting import EVERYONE, members_within

# Peewee's expression objects carry no type information; this alias names
# them for readers, and is Any to mypy.
Node = Any

TRUE = peewee.SQL("1 = 1")
FALSE = peewee.SQL("1 = 0")

Predicate = Callable[[Any], Node]


@dataclasses.dataclass(frozen=True)
class Column:
    """A column that answers an attribute.

    ``kind`` says how values meet it: "plain" compares as stored (case-folded
    columns hold folded text, and the filter's value arrives folded too);
    "id" holds a resource id as an integer, compared to SCIM's string ids;
    "lower" holds ASCII words compared case-insensitively. ``field`` is a
    constant for values that no row stores, such as the type of an implied
    member.
    """

    field: Node
    kind: str = "plain"


@dataclasses.dataclass(frozen=True)
class ChildTable:
    """A multi-valued attribute kept in rows of its own.

    ``columns`` maps sub-attribute names to the columns holding them, and
    ``owners`` turns a condition on those columns into a query of the ids
    of the resources that have a value meeting it. ``implied`` describes,
    with the same sub-attributes, values that no row stores: a resource that
    one of those meets matches too.

    ``in_document`` says whether the search document holds the attribute
    too, so that value filters on other sub-attributes can read it there.
    """

    columns: dict[str, Column]
    owners: Callable[[Node], Node]
    implied: ChildTable | None = None
    in_document: bool = True


@dataclasses.dataclass(frozen=True)
class Catalogue:
    """Where one resource type keeps each attribute."""

    model: type[User] | type[Group]
    resource_type: str
    columns: dict[str, Column]  # by dotted path: "userName", "meta.created"
    children: dict[str, ChildTable]


def _with_emails(condition: Node) -> Node:
    return UserEmail.select(UserEmail.user).where(condition)


def _with_members(condition: Node) -> Node:
    return Membership.select(Membership.group).where(condition)


def _everyone_if_any_user(condition: Node) -> Node:
    # The group "users" has every user as a member without storing rows.
    everyone = Group.alias("scim_everyone")
    some_user = User.select(peewee.SQL("1")).where(condition)
    return everyone.select(everyone.id).where(
        (everyone.builtin == EVERYONE) & peewee.fn.EXISTS(some_user)
    )


USERS = Catalogue(
    model=User,
    resource_type="User",
    columns={
        "userName": Column(User.user_name_key),
        "externalId": Column(User.external_id),
        "active": Column(User.active),
        "meta.created": Column(User.created),
        "meta.lastModified": Column(User.last_modified),
    },
    children={
        "emails": ChildTable(
            columns={
                "value": Column(UserEmail.value_key),
                "type": Column(UserEmail.type_key),
                "primary": Column(UserEmail.primary),
            },
            owners=_with_emails,
        ),
        # A condition on a user's groups is one on the groups themselves:
        # the users it selects are the members of the groups that meet it
        # and of every group inside those, "users" included.
        "groups": ChildTable(
            columns={
                "value": Column(Group.id, "id"),
                "display": Column(Group.display_name_key),
            },
            owners=members_within,
            in_document=False,
        ),
    },
)

GROUPS = Catalogue(
    model=Group,
    resource_type="Group",
    columns={
        "displayName": Column(Group.display_name_key),
        "externalId": Column(Group.external_id),
        "meta.created": Column(Group.created),
        "meta.lastModified": Column(Group.last_modified),
    },
    children={
        "members": ChildTable(
            columns={
                "value": Column(Membership.member_id, "id"),
                "type": Column(Membership.member_type, "lower"),
            },
            owners=_with_members,
            implied=ChildTable(
                columns={
                    "value": Column(User.id, "id"),
                    "type": Column(peewee.Value("User"), "lower"),
                },
                owners=_everyone_if_any_user,
            ),
            in_document=False,
        ),
    },
)


def catalogue(resource_type: str) -> Catalogue:
    return {"User": USERS, "Group": GROUPS}[resource_type]


def compile_filter(resource_type: str, node: Filter) -> Node:
    """The SQL condition selecting the resources that match ``node``."""
    return _Compiler(catalogue(resource_type)).compile(node)


def select(query: Any, resource_type: str, selection: Selection) -> Any:
    """``query`` narrowed by the selection's filter and put in its order."""
    compiler = _Compiler(catalogue(resource_type))
    if selection.filter is not None:
        query = query.where(compiler.compile(selection.filter))
    key = compiler.order_key(selection.sort_by)
    return query.order_by(*key.ordering(compiler.model.id, selection.descending))


def select_after(
    query: Any,
    resource_type: str,
    selection: Selection,
    after: Position | None,
    *,
    backwards: bool = False,
) -> tuple[Any, SortKey]:
    """Keyset paging: the selection's rows that follow ``after`` in its order.

    With ``backwards`` the rows that precede it, nearest first. Each row
    carries its sort key as ``scim_sort_key``, from which the caller makes
    the next position. Unlike OFFSET, the database seeks straight to the
    position, so a page deep in the result costs what the first one does.
    """
    compiler = _Compiler(catalogue(resource_type))
    model = compiler.model
    key = compiler.order_key(selection.sort_by)
    descending = selection.descending != backwards
    query = query.select_extend(key.expression.alias("scim_sort_key"))
    if selection.filter is not None:
        query = query.where(compiler.compile(selection.filter))
    if after is not None:
        query = query.where(key.following(model.id, after, descending))
    return query.order_by(*key.ordering(model.id, descending)), key


@dataclasses.dataclass(frozen=True, slots=True)
class Position:
    """Where a row stands in an order: its sort value (None if absent), id."""

    value: Any
    id: int


@dataclasses.dataclass(frozen=True)
class SortKey:
    """What rows are ordered by, then by id to break ties.

    A key that can be absent sorts absent values as the greatest (RFC 7644
    §3.4.2.3: last when ascending, first when descending). A key that is
    never absent orders plainly, so that an index on ``(key, id)`` serves
    both the order and the seek to a keyset position.
    """

    expression: Node
    nullable: bool = True
    field: peewee.Field | None = None

    def ordering(self, id_column: Node, descending: bool) -> tuple[Node, ...]:
        key = self.expression
        if not self.nullable:
            return (key.desc(), id_column.desc()) if descending else (key, id_column)
        if descending:
            return key.is_null().desc(), key.desc(), id_column.desc()
        return key.is_null(), key, id_column

    def position(self, raw_value: Any, row_id: int) -> Position:
        """The position of a row whose sort key the database returned raw."""
        value = raw_value
        if value is not None and self.field is not None:
            value = self.field.python_value(value)
        return Position(value=value, id=row_id)

    def following(self, id_column: Node, after: Position, descending: bool) -> Node:
        """The rows after ``after`` in the order ``ordering`` gives."""
        key = self.expression
        value = after.value
        if value is not None and self.field is not None:
            value = self.field.db_value(value)
        if not self.nullable:
            here = peewee.Tuple(key, id_column)
            there = peewee.Tuple(value, after.id)
            return here < there if descending else here > there
        if value is None:
            later = id_column < after.id if descending else id_column > after.id
            in_nulls = key.is_null() & later
            return (in_nulls | key.is_null(False)) if descending else in_nulls
        if descending:
            beyond = (key < value) | ((key == value) & (id_column < after.id))
            return key.is_null(False) & beyond
        beyond = (key > value) | ((key == value) & (id_column > after.id))
        return key.is_null() | beyond


class _Compiler:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.model = catalogue.model
        self.json = _dialect()

    def compile(self, node: Filter) -> Node:
        if isinstance(node, And):
            return self.compile(node.left) & self.compile(node.right)
        if isinstance(node, Or):
            return self.compile(node.left) | self.compile(node.right)
        if isinstance(node, Not):
            return ~self.compile(node.inner)
        if isinstance(node, ValuePath):
            return self._value_path(node)
        return self._attribute(node)

    def order_key(self, path: AttributePath | None) -> SortKey:
        """What rows sort by: the attribute, or by default the creation time."""
        if path is None:
            created = self.model.created
            return SortKey(created, nullable=False, field=created)
        if path.multi_valued:
            return self._first_value_key(path)
        if path.schema is None and path.name == "id":
            return SortKey(self.model.id, nullable=False)
        column = self.catalogue.columns.get(str(path)) if path.schema is None else None
        if column is not None and column.kind == "plain":
            field = column.field
            expression = (
                _binary_order(field) if path.type in {"string", "reference"} else field
            )
            return SortKey(expression, nullable=field.null, field=field)
        if path.schema is None and path.name == "meta":
            raise UnsupportedFilter(f"{path} cannot be sorted by")
        expression = self.json.scalar(self.model.search, path)
        if path.type in {"string", "reference", "dateTime"}:
            expression = _binary_order(expression)
        return SortKey(expression)

    def _first_value_key(self, path: AttributePath) -> SortKey:
        """Sort by a multi-valued attribute: its primary value, else its first.

        RFC 7644 §3.4.2.3 orders by the primary value when there is one and
        by the first value otherwise. The values are read from the search
        document; attributes computed from memberships are not in it.
        """
        in_document = (
            path.schema is not None
            or path.name not in self.catalogue.children
            or path.name == "emails"
        )
        if path.sub is None or not in_document:
            raise UnsupportedFilter(f"{path} cannot be sorted by")
        expression = self.json.first_value(self.model.search, path)
        if path.type in {"string", "reference", "dateTime"}:
            expression = _binary_order(expression)
        return SortKey(expression)

    # One attribute compared or tested for presence.

    def _attribute(self, node: Compare | Present) -> Node:
        path = node.path
        if path.schema is None and path.name == "id":
            return _on_column(Column(self.model.id, "id"), node)
        if path.schema is None and str(path) == "meta.resourceType":
            return _constant(node, self.catalogue.resource_type)
        if (
            path.schema is None
            and path.name == "meta"
            and path.sub
            in {
                "location",
                "version",
            }
        ):
            raise UnsupportedFilter(f"{path} cannot be filtered on")
        column = self.catalogue.columns.get(str(path)) if path.schema is None else None
        if column is not None:
            return _on_column(column, node)
        child = self.catalogue.children.get(path.name) if path.schema is None else None
        if child is not None:
            return self._child(child, node)
        return self._json(node)

    # Child tables.

    def _child(self, child: ChildTable, node: Compare | Present) -> Node:
        """``id IN (SELECT parent FROM child WHERE ...)`` for one sub-attribute."""
        sub = node.path.sub
        if sub is None:
            # Only presence reaches here: the HTTP layer refuses comparisons
            # on a complex attribute as a whole.
            return self._in_child(child, lambda table: TRUE)
        if sub not in child.columns:
            raise UnsupportedFilter(f"{node.path} cannot be filtered on")
        return self._in_child(child, lambda table: _on_column(table.columns[sub], node))

    def _in_child(
        self, child: ChildTable, condition: Callable[[ChildTable], Node]
    ) -> Node:
        """The resources with a value, stored or implied, meeting a condition.

        ``condition`` builds that condition on the columns of the table given.
        """
        ids = child.owners(condition(child))
        if child.implied is not None:
            ids += child.implied.owners(condition(child.implied))
        return self.model.id.in_(ids)

    def _value_path(self, node: ValuePath) -> Node:
        """``emails[type eq "work" and value co "x"]``: one value matches all."""
        child = (
            self.catalogue.children.get(node.path.name)
            if node.path.schema is None
            else None
        )
        if child is not None and _uses_only(node.filter, child.columns):
            return self._in_child(
                child, lambda table: _ChildCompiler(table).compile(node.filter)
            )
        if child is not None and not child.in_document:
            named = ", ".join(child.columns)
            raise UnsupportedFilter(
                f"inside {node.path.name}[...] only {named} can be filtered on"
            )
        return self.json.exists(
            self.model.search,
            node.path,
            lambda element: self._element(element, node.filter),
        )

    def _element(self, element: Any, node: Filter) -> Node:
        if isinstance(node, And):
            return self._element(element, node.left) & self._element(
                element, node.right
            )
        if isinstance(node, Or):
            return self._element(element, node.left) | self._element(
                element, node.right
            )
        if isinstance(node, Not):
            return ~self._element(element, node.inner)
        if isinstance(node, ValuePath):
            raise UnsupportedFilter("value filters cannot be nested")
        if isinstance(node, Compare) and isinstance(node.value, datetime.datetime):
            node = dataclasses.replace(node, value=fixed_width_timestamp(node.value))
        return _on_expression(self.json.member(element, node.path), node)

    # The JSON search document.

    def _json(self, node: Compare | Present) -> Node:
        path = node.path
        if isinstance(node, Compare) and isinstance(node.value, datetime.datetime):
            # The search document holds timestamps in one fixed-width form.
            node = dataclasses.replace(node, value=fixed_width_timestamp(node.value))
        if not path.multi_valued:
            return _on_expression(self.json.scalar(self.model.search, path), node)
        if path.sub is None and isinstance(node, Present):
            return self.json.exists(self.model.search, path, lambda element: TRUE)
        return self.json.exists(
            self.model.search,
            path,
            lambda element: _on_expression(self.json.member(element, path), node),
        )


class _ChildCompiler:
    """Conditions on the columns of one child table, for value filters."""

    def __init__(self, child: ChildTable) -> None:
        self.child = child

    def compile(self, node: Filter) -> Node:
        if isinstance(node, And):
            return self.compile(node.left) & self.compile(node.right)
        if isinstance(node, Or):
            return self.compile(node.left) | self.compile(node.right)
        if isinstance(node, Not):
            return ~self.compile(node.inner)
        if isinstance(node, ValuePath):
            raise UnsupportedFilter("value filters cannot be nested")
        return _on_column(self.child.columns[node.path.sub or "value"], node)


def _uses_only(node: Filter, columns: dict[str, Any]) -> bool:
    if isinstance(node, And | Or):
        return _uses_only(node.left, columns) and _uses_only(node.right, columns)
    if isinstance(node, Not):
        return _uses_only(node.inner, columns)
    if isinstance(node, ValuePath):
        return False
    return (node.path.sub or "value") in columns


# Comparisons on one SQL expression.


def _on_column(column: Column, node: Compare | Present) -> Node:
    if column.kind == "lower":
        return _on_expression(peewee.fn.LOWER(column.field), node)
    if column.kind != "id":
        if isinstance(node, Compare) and _absence_excluded(column.field, node):
            return _compare(column.field, node.op, node.value)
        return _on_expression(column.field, node)
    # Id columns hold integers, never "" or NULL.
    if isinstance(node, Present):
        return TRUE
    if node.op in {"eq", "ne"} and isinstance(node.value, str):
        wanted = parse_id(node.value)
        if wanted is None:
            return FALSE if node.op == "eq" else TRUE
        if node.op == "eq":
            return column.field == wanted
        return column.field != wanted
    # Ids are strings to SCIM: "id sw "12"" compares their decimal text.
    return _on_expression(peewee.Cast(column.field, "TEXT"), node)


def _on_expression(expression: Any, node: Compare | Present) -> Node:
    if isinstance(node, Present):
        return _present(expression, node.path)
    if node.value is None:
        raise UnsupportedFilter("null comparisons arrive as presence tests")
    return _present(expression, node.path) & _compare(expression, node.op, node.value)


def _absence_excluded(field: peewee.Field, node: Compare) -> bool:
    """Whether comparing ``field`` alone already rules out absent values.

    Then the presence test ``_on_expression`` adds is redundant, and leaving
    it out matters: it doubles the time Peewee takes to render the query,
    which is most of the cost of a ``userName eq`` lookup. A NOT NULL column
    never makes a comparison NULL, so NOT stays two-valued; text can still be
    "", which an ``eq``, ``co``, ``sw`` or ``ew`` with a non-empty value
    never matches.
    """
    if field.null:
        return False
    if node.path.type not in _TEXT_TYPES:
        return True
    return node.op in {"eq", "co", "sw", "ew"} and node.value != ""


_TEXT_TYPES = frozenset({"string", "reference", "binary"})


def _present(expression: Any, path: AttributePath) -> Node:
    if path.type in _TEXT_TYPES:
        return expression.is_null(False) & (expression != "")
    return expression.is_null(False)


def _compare(expression: Any, op: str, value: Value) -> Node:
    if op == "eq":
        return expression == value
    if op == "ne":
        return expression != value
    if op in {"co", "sw", "ew"}:
        escaped = (
            str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        pattern = {"co": f"%{escaped}%", "sw": f"{escaped}%", "ew": f"%{escaped}"}[op]
        return peewee.NodeList(
            (expression, peewee.SQL("LIKE"), pattern, peewee.SQL("ESCAPE '\\'"))
        )
    ordered = _binary_order(expression) if isinstance(value, str) else expression
    return {
        "gt": ordered > value,
        "ge": ordered >= value,
        "lt": ordered < value,
        "le": ordered <= value,
    }[op]


def _binary_order(expression: Any) -> Any:
    """Order strings by code point, as SQLite does, on PostgreSQL too."""
    if is_postgresql(database_proxy.obj):
        return peewee.NodeList((expression, peewee.SQL('COLLATE "C"')))
    return expression


def _constant(node: Compare | Present, actual: str) -> Node:
    if isinstance(node, Present):
        return TRUE
    wanted = node.value.casefold() if isinstance(node.value, str) else node.value
    folded = actual.casefold()
    matches = {
        "eq": folded == wanted,
        "ne": folded != wanted,
        "co": isinstance(wanted, str) and wanted in folded,
        "sw": isinstance(wanted, str) and folded.startswith(wanted),
        "ew": isinstance(wanted, str) and folded.endswith(wanted),
    }.get(node.op)
    if matches is None:
        raise UnsupportedFilter(f"{node.path} cannot be ordered")
    return TRUE if matches else FALSE


# JSON access, which differs between the two databases.


class _SqliteJson:
    def scalar(self, column: peewee.Field, path: AttributePath) -> Node:
        return peewee.fn.json_extract(column, _json_path(path))

    def exists(
        self, column: peewee.Field, path: AttributePath, predicate: Predicate
    ) -> Node:
        array = _json_path(dataclasses.replace(path, sub=None))
        element = peewee.SQL("scim_element.value")
        return peewee.NodeList(
            (
                peewee.SQL("EXISTS (SELECT 1 FROM json_each("),
                column,
                peewee.SQL(","),
                array,
                peewee.SQL(") AS scim_element WHERE"),
                predicate(element),
                peewee.SQL(")"),
            )
        )

    def member(self, element: Any, path: AttributePath) -> Node:
        if path.sub is None:
            return element
        return peewee.fn.json_extract(element, f'$."{path.sub}"')

    def first_value(self, column: peewee.Field, path: AttributePath) -> Node:
        """``path.sub`` of the primary element of the array, else the first."""
        array = _json_path(dataclasses.replace(path, sub=None))
        return peewee.NodeList(
            (
                peewee.SQL("(SELECT json_extract(scim_element.value,"),
                f'$."{path.sub}"',
                peewee.SQL(") FROM json_each("),
                column,
                peewee.SQL(","),
                array,
                peewee.SQL(
                    ") AS scim_element ORDER BY"
                    " json_extract(scim_element.value, '$.\"primary\"') IS 1 DESC,"
                    " scim_element.key LIMIT 1)"
                ),
            )
        )


class _PostgresqlJson:
    def scalar(self, column: peewee.Field, path: AttributePath) -> Node:
        return self._typed(
            peewee.NodeList((column, peewee.SQL("#>>"), _pg_path(path))), path
        )

    def exists(
        self, column: peewee.Field, path: AttributePath, predicate: Predicate
    ) -> Node:
        array = _pg_path(dataclasses.replace(path, sub=None))
        element = peewee.SQL("scim_element")
        return peewee.NodeList(
            (
                peewee.SQL("EXISTS (SELECT 1 FROM jsonb_array_elements("),
                column,
                peewee.SQL("#>"),
                array,
                peewee.SQL(") AS scim_element WHERE"),
                predicate(element),
                peewee.SQL(")"),
            )
        )

    def member(self, element: Any, path: AttributePath) -> Node:
        if path.sub is None:
            text = peewee.NodeList((element, peewee.SQL("#>> '{}'")))
        else:
            text = peewee.NodeList((element, peewee.SQL("->>"), path.sub))
        return self._typed(text, path)

    def first_value(self, column: peewee.Field, path: AttributePath) -> Node:
        """``path.sub`` of the primary element of the array, else the first."""
        array = _pg_path(dataclasses.replace(path, sub=None))
        text = peewee.NodeList(
            (
                peewee.SQL("(SELECT scim_element ->>"),
                path.sub,
                peewee.SQL("FROM jsonb_array_elements("),
                column,
                peewee.SQL("#>"),
                array,
                peewee.SQL(
                    ") WITH ORDINALITY AS scim_values (scim_element, scim_index)"
                    " ORDER BY (scim_element ->> 'primary') = 'true' DESC NULLS LAST,"
                    " scim_index LIMIT 1)"
                ),
            )
        )
        return self._typed(text, path)

    @staticmethod
    def _typed(text: peewee.Node, path: AttributePath) -> Node:
        # "#>>" yields text; booleans and numbers compare as themselves.
        if path.type == "boolean":
            return peewee.Cast(text, "BOOLEAN")
        if path.type in {"integer", "decimal"}:
            return peewee.Cast(text, "NUMERIC")
        return text


def _dialect() -> _SqliteJson | _PostgresqlJson:
    return _PostgresqlJson() if is_postgresql(database_proxy.obj) else _SqliteJson()


def _json_path(path: AttributePath) -> str:
    steps = [step for step in (path.schema, path.name, path.sub) if step]
    return "$" + "".join(f'."{step}"' for step in steps)


def _pg_path(path: AttributePath) -> Node:
    steps = [step for step in (path.schema, path.name, path.sub) if step]
    return peewee.Value("{" + ",".join(f'"{step}"' for step in steps) + "}")
