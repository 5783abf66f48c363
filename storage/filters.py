"""Resolved SCIM filters, the form in which storage receives them.

The HTTP layer parses a filter (RFC 7644 §3.4.2.2) and resolves every
attribute path against the schemas: canonical names, the value's type, its
case sensitivity and whether it is multi-valued. Storage then owns the
mapping from those paths to columns, child tables and JSON documents (see
``storage.compiler``). Keeping schema knowledge on one side and table
knowledge on the other lets each be tested alone, and lets an in-memory
evaluator check the SQL compiler against the same trees.

Semantics, applied identically by the compiler and the reference evaluator:
- A comparison is true when *some* value of the attribute satisfies it. An
  absent attribute, or a multi-valued one with no values, has no values, so
  every comparison on it is false, ``ne`` included; ``not (...)`` is true.
- A value of null, "" or [] counts as absent, for ``pr`` and every
  comparison alike.
- ``eq null`` means ``not (pr)`` and ``ne null`` means ``pr``; the HTTP
  layer rewrites them so, and storage never receives a null value.
- Strings with ``caseExact: false`` compare by ``str.casefold()``.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator
from typing import Union

from storage.errors import StorageError

Value = Union[str, bool, int, float, datetime.datetime, None]  # noqa: UP007

COMPARISONS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
ORDERINGS = frozenset({"gt", "ge", "lt", "le"})


@dataclasses.dataclass(frozen=True, slots=True)
class AttributePath:
    """A resolved attribute: ``name`` or ``name.sub``, core or in an extension.

    ``type`` and ``case_exact`` describe the compared value (the
    sub-attribute's, when there is one); ``multi_valued`` tells whether the
    top-level attribute holds a list.
    """

    name: str
    sub: str | None = None
    schema: str | None = None  # None for core and common attributes
    type: str = "string"
    case_exact: bool = False
    multi_valued: bool = False

    def __str__(self) -> str:
        dotted = f"{self.name}.{self.sub}" if self.sub else self.name
        return f"{self.schema}:{dotted}" if self.schema else dotted


@dataclasses.dataclass(frozen=True, slots=True)
class Compare:
    path: AttributePath
    op: str
    value: Value


@dataclasses.dataclass(frozen=True, slots=True)
class Present:
    path: AttributePath


@dataclasses.dataclass(frozen=True, slots=True)
class And:
    left: Filter
    right: Filter


@dataclasses.dataclass(frozen=True, slots=True)
class Or:
    left: Filter
    right: Filter


@dataclasses.dataclass(frozen=True, slots=True)
class Not:
    inner: Filter


@dataclasses.dataclass(frozen=True, slots=True)
class ValuePath:
    """``attr[filter]``: one value of a multi-valued attribute meets ``filter``.

    The paths inside ``filter`` name sub-attributes of ``path`` (their
    ``name`` is ``path.name`` and their ``sub`` the sub-attribute).
    """

    path: AttributePath
    filter: Filter


Filter = Compare | Present | And | Or | Not | ValuePath


def attribute_paths(node: Filter) -> Iterator[AttributePath]:
    """Every attribute path that ``node`` reads, bracketed ones included."""
    if isinstance(node, And | Or):
        yield from attribute_paths(node.left)
        yield from attribute_paths(node.right)
    elif isinstance(node, Not):
        yield from attribute_paths(node.inner)
    elif isinstance(node, ValuePath):
        yield node.path
        yield from attribute_paths(node.filter)
    else:
        yield node.path


def fixed_width_timestamp(moment: datetime.datetime) -> str:
    """``2026-01-15T09:30:00.000000Z``: sorts as text in time order."""
    utc = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


class UnsupportedFilter(StorageError):
    """The filter is valid SCIM but this storage cannot evaluate it exactly."""


@dataclasses.dataclass(frozen=True, slots=True)
class Selection:
    """Which resources a list request wants, and in what order.

    Without ``sort_by`` the order is creation time, then id: stable, and
    the order in which resources were added.
    """

    filter: Filter | None = None
    sort_by: AttributePath | None = None
    descending: bool = False
