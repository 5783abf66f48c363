"""Choosing which attributes a response carries (RFC 7644 §3.4.2.5, §3.9).

A ``Projection`` is built once per request from the ``attributes`` and
``excludedAttributes`` parameters and applied to each resource. It honours
each attribute's ``returned`` characteristic: ``always`` attributes are sent
whatever was asked, ``never`` ones are never sent, ``request`` ones only when
named in ``attributes``, and ``default`` ones unless left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from scim_server.schema import Attribute, ResourceType

# A selection names top-level keys (a core attribute, or an extension URN)
# and, for each, either the whole thing (None) or a nested selection.
Selection = dict[str, "Selection | None"]


@dataclasses.dataclass(frozen=True)
class Projection:
    resource_type: ResourceType
    attributes: Selection | None = None
    excluded: Selection | None = None

    @classmethod
    def parse(
        cls,
        resource_type: ResourceType,
        attributes: Iterable[str] | None,
        excluded: Iterable[str] | None,
    ) -> Projection:
        """Build a projection from the two query parameters' comma lists.

        When both are given, ``attributes`` wins: it already names exactly
        what to return. Names that match no attribute are ignored.
        """
        if attributes:
            return cls(resource_type, attributes=_select(resource_type, attributes))
        if excluded:
            return cls(resource_type, excluded=_select(resource_type, excluded))
        return cls(resource_type)

    def includes(self, name: str) -> bool:
        """Whether the top-level core attribute ``name`` may be in the output.

        Used to skip work, such as reading a group's members, whose result
        would be dropped anyway.
        """
        attribute = self.resource_type.core_attribute(name)
        if attribute is None:
            raise KeyError(f"{self.resource_type.name} has no attribute {name}")
        return _wanted(attribute, name, self.attributes, self.excluded)

    def apply(self, resource: Mapping[str, Any]) -> dict[str, Any]:
        drops = _default_drops(self.resource_type)
        if self.attributes is None and self.excluded is None and drops is not None:
            # The common case: every default attribute, nothing to walk.
            return {k: v for k, v in resource.items() if k not in drops}
        result: dict[str, Any] = {}
        for key, value in resource.items():
            if key == "schemas":
                result[key] = value
                continue
            extension = self.resource_type.extension(key)
            if extension is not None:
                inner = _extension_selection(key, self.attributes, self.excluded)
                part = _apply_schema(extension.attribute, value, *inner)
                if part:
                    result[key] = part
                continue
            attribute = self.resource_type.core_attribute(key)
            if attribute is not None and _wanted(
                attribute, key, self.attributes, self.excluded
            ):
                result[key] = _apply_attribute(
                    attribute,
                    value,
                    _child(self.attributes, key),
                    _child(self.excluded, key),
                )
        if "schemas" in result:
            # RFC 7643 §3: schemas names the schemas of the attributes sent.
            core = self.resource_type.schema.id
            result["schemas"] = [
                urn for urn in result["schemas"] if urn == core or urn in result
            ]
        return result


_DEFAULT_DROPS: dict[str, frozenset[str] | None] = {}


def _default_drops(resource_type: ResourceType) -> frozenset[str] | None:
    """Top-level keys a plain read leaves out (returned never or request).

    None when some sub-attribute or extension attribute is hidden by default
    too, so that dropping whole keys is not enough and the full walk runs.
    """
    if resource_type.name not in _DEFAULT_DROPS:
        drops: set[str] | None = set()
        for schema in resource_type.schemas():
            for attribute in schema.attributes:
                hidden = attribute.returned in {"never", "request"}
                nested = any(
                    sub.returned in {"never", "request"}
                    for sub in attribute.sub_attributes
                )
                if nested or (hidden and schema is not resource_type.schema):
                    drops = None
                elif hidden and drops is not None:
                    drops.add(attribute.name)
        _DEFAULT_DROPS[resource_type.name] = None if drops is None else frozenset(drops)
    return _DEFAULT_DROPS[resource_type.name]


def _extension_selection(
    urn: str, attributes: Selection | None, excluded: Selection | None
) -> tuple[Selection | None, Selection | None, bool]:
    """The selections inside an extension, and whether only "always" remain."""
    if attributes is not None:
        if urn not in attributes:
            return (None, None, True)  # only always-returned attributes
        return (attributes[urn], None, False)
    if excluded is not None and urn in excluded and excluded[urn] is None:
        return (None, None, True)
    return (None, _child(excluded, urn), False)


def _apply_schema(
    lookup: Any,
    value: Mapping[str, Any],
    attributes: Selection | None,
    excluded: Selection | None,
    always_only: bool,
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in value.items():
        attribute: Attribute | None = lookup(key)
        if attribute is None:
            continue
        if always_only:
            if attribute.returned == "always":
                result[key] = item
            continue
        if _wanted(attribute, key, attributes, excluded):
            result[key] = _apply_attribute(
                attribute, item, _child(attributes, key), _child(excluded, key)
            )
    return result


def _apply_attribute(
    attribute: Attribute,
    value: Any,
    attributes: Selection | None,
    excluded: Selection | None,
) -> Any:
    if attribute.type != "complex":
        return value
    if attributes is None and excluded is None and not _hides_a_part(attribute):
        return value
    if attribute.multi_valued:
        return [
            _apply_schema(attribute.sub_attribute, item, attributes, excluded, False)
            for item in value
        ]
    return _apply_schema(attribute.sub_attribute, value, attributes, excluded, False)


def _hides_a_part(attribute: Attribute) -> bool:
    return any(sub.returned in {"never", "request"} for sub in attribute.sub_attributes)


def _wanted(
    attribute: Attribute,
    key: str,
    attributes: Selection | None,
    excluded: Selection | None,
) -> bool:
    if attribute.returned == "always":
        return True
    if attribute.returned == "never":
        return False
    if attributes is not None:
        return key in attributes
    if attribute.returned == "request":
        return False
    # Excluding a sub-attribute keeps the parent with its other parts.
    return excluded is None or key not in excluded or excluded[key] is not None


def _child(selection: Selection | None, key: str) -> Selection | None:
    if selection is None:
        return None
    return selection.get(key)


def _select(resource_type: ResourceType, paths: Iterable[str]) -> Selection:
    """Resolve attribute paths to canonical names (RFC 7643 §2.1: any case)."""
    selection: Selection = {}
    for path in paths:
        steps = _resolve(resource_type, path.strip())
        if not steps:
            continue
        node = selection
        for step in steps[:-1]:
            existing = node.get(step, {})
            if existing is None:
                break  # the whole attribute is already selected
            node[step] = existing
            node = existing
        else:
            node[steps[-1]] = None
    return selection


def _resolve(resource_type: ResourceType, path: str) -> list[str]:
    """``name.givenName`` -> ["name", "givenName"]; URN-qualified paths too."""
    for schema in resource_type.schemas():
        if path.lower() == schema.id.lower():
            return [schema.id] if schema is not resource_type.schema else []
        if path.lower().startswith(schema.id.lower() + ":"):
            rest = path[len(schema.id) + 1 :]
            if schema is resource_type.schema:
                return _resolve_names(resource_type.core_attribute, rest)
            inner = _resolve_names(schema.attribute, rest)
            return [schema.id, *inner] if inner else []
    return _resolve_names(resource_type.core_attribute, path)


def _resolve_names(lookup: Any, path: str) -> list[str]:
    name, _, sub_name = path.partition(".")
    attribute: Attribute | None = lookup(name)
    if attribute is None:
        return []
    if not sub_name:
        return [attribute.name]
    sub = attribute.sub_attribute(sub_name)
    return [attribute.name, sub.name] if sub is not None else []
