"""The search form of a resource document, which filters are evaluated on.

Storage keeps, beside each resource's document, a copy in which every string
of an attribute with ``caseExact: false`` is case-folded and every dateTime
is written in one fixed-width UTC form. Filters then compare case-folded
values and order timestamps as text, with the same results on SQLite and
PostgreSQL: neither database's own case-insensitive comparison folds all of
Unicode the way ``str.casefold()`` does, and ISO 8601 strings with different
offsets or precision do not sort as instants.
"""

from __future__ import annotations

import datetime
from typing import Any

from scim_server.schema import Attribute, ResourceType
from storage.filters import fixed_width_timestamp

Document = dict[str, Any]


def search_document(resource_type: ResourceType, document: Document) -> Document:
    search: Document = {}
    for key, value in document.items():
        extension = resource_type.extension(key)
        if extension is not None:
            search[key] = {
                name: _fold(attribute, item)
                for name, item in value.items()
                if (attribute := extension.attribute(name)) is not None
            }
            continue
        attribute = resource_type.core_attribute(key)
        search[key] = value if attribute is None else _fold(attribute, value)
    return search


def search_value(attribute: Attribute, value: Any) -> Any:
    """One simple value in its search form."""
    if attribute.type == "string" and not attribute.case_exact:
        return value.casefold() if isinstance(value, str) else value
    if attribute.type == "dateTime" and isinstance(value, str):
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return fixed_width_timestamp(parsed)
    return value


def _fold(attribute: Attribute, value: Any) -> Any:
    if attribute.multi_valued and isinstance(value, list):
        return [_fold_single(attribute, item) for item in value]
    return _fold_single(attribute, value)


def _fold_single(attribute: Attribute, value: Any) -> Any:
    if attribute.type != "complex" or not isinstance(value, dict):
        return search_value(attribute, value)
    folded = {}
    for name, item in value.items():
        sub = attribute.sub_attribute(name)
        folded[name] = item if sub is None else search_value(sub, item)
    return folded
