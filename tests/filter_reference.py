"""An in-memory evaluator of resolved filters, the oracle for the SQL compiler.

It reads resources as the API returns them (not the stored search document)
and applies the semantics documented in ``storage.filters`` in plain Python,
written without reference to ``storage.compiler``, so that the differential
tests compare two independent implementations. A user's ``groups``, which
the API computes from group membership, is computed here too, by
``groups_of``, from each group's direct members.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from storage.filters import (
    And,
    AttributePath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    ValuePath,
)


def matches(node: Filter, resource: dict[str, Any]) -> bool:
    if isinstance(node, And):
        return matches(node.left, resource) and matches(node.right, resource)
    if isinstance(node, Or):
        return matches(node.left, resource) or matches(node.right, resource)
    if isinstance(node, Not):
        return not matches(node.inner, resource)
    if isinstance(node, ValuePath):
        elements = _container(resource, node.path).get(node.path.name) or []
        return any(_element_matches(node.filter, element) for element in elements)
    return any(_test(node, value) for value in values_of(resource, node.path))


def _element_matches(node: Filter, element: dict[str, Any]) -> bool:
    if isinstance(node, And):
        return _element_matches(node.left, element) and _element_matches(
            node.right, element
        )
    if isinstance(node, Or):
        return _element_matches(node.left, element) or _element_matches(
            node.right, element
        )
    if isinstance(node, Not):
        return not _element_matches(node.inner, element)
    assert not isinstance(node, ValuePath)
    value = element.get(node.path.sub) if node.path.sub else None
    return _test(node, value)


def _container(resource: dict[str, Any], path: AttributePath) -> dict[str, Any]:
    if path.schema is None:
        return resource
    found: dict[str, Any] = resource.get(path.schema, {})
    return found


def values_of(resource: dict[str, Any], path: AttributePath) -> list[Any]:
    """Every value the path reaches in ``resource``; [None] when absent."""
    if path.name == "meta" and path.sub in {"created", "lastModified"}:
        return [resource["meta"][path.sub]]
    if path.name == "meta" and path.sub == "resourceType":
        return [resource["meta"]["resourceType"]]
    top = _container(resource, path).get(path.name)
    if path.multi_valued:
        items = top or []
        if path.sub is None:
            return items or [None]
        return [item.get(path.sub) for item in items] or [None]
    if path.sub is None:
        return [top]
    return [None if top is None else top.get(path.sub)]


def _test(node: Compare | Present, value: Any) -> bool:
    absent = value is None or value == "" or value == [] or value == {}
    if isinstance(node, Present):
        return not absent
    if absent:
        return False
    left, right = _comparable(node.path, value), _comparable(node.path, node.value)
    if node.op == "eq":
        return left == right
    if node.op == "ne":
        return left != right
    if node.op == "co":
        return right in left
    if node.op == "sw":
        return left.startswith(right)
    if node.op == "ew":
        return left.endswith(right)
    return {
        "gt": left > right,
        "ge": left >= right,
        "lt": left < right,
        "le": left <= right,
    }[node.op]


def _comparable(path: AttributePath, value: Any) -> Any:
    if path.type == "dateTime":
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return value.astimezone(datetime.UTC)
    if isinstance(value, str) and not path.case_exact:
        return value.casefold()
    return value


def groups_of(
    user_id: str, groups: Sequence[dict[str, Any]], everyone: str | None = None
) -> list[dict[str, str]]:
    """A user's ``groups`` as RFC 7643 §4.1.2 describes it, in no order.

    ``groups`` are dicts with an "id", a "displayName" and "members", the ids
    of their direct members. ``everyone`` is the id of the group that every
    user belongs to without being listed in it. A group is direct when it
    lists the user (or is ``everyone``), and indirect when it only lists, at
    some depth, a group the user belongs to.
    """
    direct = {group["id"] for group in groups if user_id in group["members"]}
    if everyone is not None:
        direct.add(everyone)
    belongs = set(direct)
    grew = True
    while grew:
        joined = {
            group["id"]
            for group in groups
            if group["id"] not in belongs and belongs & set(group["members"])
        }
        belongs |= joined
        grew = bool(joined)
    return [
        {
            "value": group["id"],
            "display": group["displayName"],
            "type": "direct" if group["id"] in direct else "indirect",
        }
        for group in groups
        if group["id"] in belongs
    ]
