"""PATCH (RFC 7644 §3.5.2): parsing a PatchOp request and applying it.

A PATCH is applied to a copy of the stored document, operation by
operation, and the result is validated as a whole, exactly as a PUT body
would be: either every operation lands or the request fails and nothing
changes. Group members are not in the document (they live in their own
table), so operations on ``members`` are collected as a ``MemberChanges``
that storage applies as row inserts and deletes; a group with a hundred
thousand members is never loaded to add one.

Where identity providers deviate from the RFC in a way that has one
sensible meaning, the provider's shape is accepted; each such place names
the provider that sends it.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from scim_server.errors import (
    InvalidFilter,
    InvalidPath,
    InvalidSyntax,
    InvalidValue,
    Mutability,
    NoTarget,
)
from scim_server.filtering import parse_filter
from scim_server.schema import Attribute, ResourceType, Schema
from scim_server.schema.validation import UNASSIGNED, parse_value
from storage import filters

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
OPS = frozenset({"add", "remove", "replace"})
MAX_OPERATIONS = 1000

Document = dict[str, Any]
Element = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class PatchPath:
    """A resolved PATCH target: ``attr``, ``attr.sub``, ``attr[filter].sub``.

    ``schema`` is the extension holding the attribute, or None for core and
    common attributes.
    """

    text: str
    attribute: Attribute
    schema: Schema | None = None
    filter: filters.Filter | None = None
    sub: Attribute | None = None

    def __str__(self) -> str:
        return self.text

    @property
    def read_only(self) -> bool:
        if self.attribute.mutability == "readOnly":
            return True
        return self.sub is not None and self.sub.mutability == "readOnly"


@dataclasses.dataclass(frozen=True)
class ExtensionPath:
    """A path naming a whole extension, ``urn:...:enterprise:2.0:User``."""

    schema: Schema

    def __str__(self) -> str:
        return self.schema.id


@dataclasses.dataclass(frozen=True)
class Operation:
    op: str
    path: PatchPath | ExtensionPath | None
    value: Any
    number: int  # 1-based, for error messages

    def where(self) -> str:
        return (
            f"operation {self.number} ({self.op}{f' {self.path}' if self.path else ''})"
        )


def parse_patch_request(resource_type: ResourceType, body: Any) -> list[Operation]:
    """Check a PatchOp body and resolve every operation's path."""
    if not isinstance(body, Mapping):
        raise InvalidSyntax("the request body must be a JSON object")
    fields = {str(key).lower(): value for key, value in body.items()}
    schemas = fields.get("schemas")
    if isinstance(schemas, str):
        schemas = [schemas]
    if not isinstance(schemas, list) or PATCH_OP.lower() not in {
        str(urn).lower() for urn in schemas
    }:
        raise InvalidSyntax(f'"schemas" must be ["{PATCH_OP}"]')
    raw_operations = fields.get("operations")
    if not isinstance(raw_operations, list) or not raw_operations:
        raise InvalidSyntax('"Operations" must be a non-empty list')
    if len(raw_operations) > MAX_OPERATIONS:
        raise InvalidValue(f"a PATCH may hold at most {MAX_OPERATIONS} operations")
    return [
        _parse_operation(resource_type, raw, number)
        for number, raw in enumerate(raw_operations, start=1)
    ]


def _parse_operation(resource_type: ResourceType, raw: Any, number: int) -> Operation:
    if not isinstance(raw, Mapping):
        raise InvalidSyntax(f"operation {number} must be a JSON object")
    fields = {str(key).lower(): value for key, value in raw.items()}
    op = fields.get("op")
    # Entra ID capitalises op names ("Replace"); the RFC's are lower case.
    if not isinstance(op, str) or op.lower() not in OPS:
        raise InvalidSyntax(
            f'operation {number}: "op" must be add, remove or replace, not {op!r}'
        )
    op = op.lower()
    path_text = fields.get("path")
    if path_text is not None and not isinstance(path_text, str):
        raise InvalidPath(f"operation {number}: path must be a string")
    path = (
        parse_path(resource_type, path_text)
        if path_text is not None and path_text.strip()
        else None
    )
    value = fields.get("value")
    if op != "remove" and "value" not in fields:
        if not _boolean_target(path):
            raise InvalidValue(f"operation {number} ({op}) needs a value")
        # The Databricks SDK leaves false values out of the operations it
        # sends, so deactivating a user arrives as a replace of "active"
        # without a value; for a boolean that has one meaning.
        value = False
    if path is None:
        if op == "remove":
            raise NoTarget(f"operation {number}: remove needs a path")
        if not isinstance(value, Mapping):
            raise InvalidValue(
                f"operation {number}: without a path, the value must be an object"
                " of attributes"
            )
    return Operation(op=op, path=path, value=value, number=number)


def _boolean_target(path: PatchPath | ExtensionPath | None) -> bool:
    if not isinstance(path, PatchPath):
        return False
    target = path.sub if path.sub is not None else path.attribute
    return target.type == "boolean" and not target.multi_valued


# attr, attr.sub, attr[filter], attr[filter].sub; names as in RFC 7643 §2.1,
# plus "$ref", which is a sub-attribute name in the RFC's own schemas.
_PATH = re.compile(
    r"(?P<attr>\$?[A-Za-z][\w$-]*)"
    r"(?:\[(?P<filter>.*)\])?"
    r"(?:\.(?P<sub>\$?[A-Za-z][\w$-]*))?",
    re.DOTALL,
)


def parse_path(resource_type: ResourceType, text: str) -> PatchPath | ExtensionPath:
    """Resolve a PATCH ``path`` against the resource type's schemas."""
    stripped = text.strip()
    schema, rest = _split_urn(resource_type, stripped)
    if schema is not None and not rest:
        return ExtensionPath(schema)
    match = _PATH.fullmatch(rest)
    if match is None:
        raise InvalidPath(f"{text!r} is not an attribute path")
    if schema is None:
        attribute = resource_type.core_attribute(match["attr"])
        if attribute is None:
            schema, attribute = _unqualified_extension(resource_type, match["attr"])
    else:
        attribute = schema.attribute(match["attr"])
    if attribute is None:
        raise InvalidPath(f"unknown attribute in path {text!r}")
    value_filter = None
    if match["filter"] is not None:
        value_filter = _value_filter(resource_type, schema, attribute, match["filter"])
    sub = None
    if match["sub"] is not None:
        sub = attribute.sub_attribute(match["sub"])
        if sub is None:
            raise InvalidPath(f"{attribute.name} has no sub-attribute {match['sub']!r}")
    return PatchPath(
        text=stripped,
        attribute=attribute,
        schema=schema,
        filter=value_filter,
        sub=sub,
    )


def _unqualified_extension(
    resource_type: ResourceType, name: str
) -> tuple[Schema | None, Attribute | None]:
    """An extension attribute named without its URN, if only one has the name.

    RFC 7644 §3.10 asks clients to qualify extension attributes; Entra ID
    sends the enterprise "manager" as a bare path, which has one meaning
    while no core attribute and no other extension share the name.
    """
    found = [
        (schema, attribute)
        for schema in resource_type.extensions
        if (attribute := schema.attribute(name)) is not None
    ]
    return found[0] if len(found) == 1 else (None, None)


def _split_urn(resource_type: ResourceType, text: str) -> tuple[Schema | None, str]:
    """``urn:...:User:name.givenName`` -> (schema, ``name.givenName``)."""
    lowered = text.lower()
    for schema in resource_type.extensions:
        urn = schema.id.lower()
        if lowered == urn:
            return schema, ""
        if lowered.startswith(urn + ":"):
            return schema, text[len(urn) + 1 :]
    core = resource_type.schema.id.lower()
    if lowered.startswith(core + ":"):
        return None, text[len(core) + 1 :]
    return None, text


def _value_filter(
    resource_type: ResourceType,
    schema: Schema | None,
    attribute: Attribute,
    text: str,
) -> filters.Filter:
    if not attribute.multi_valued or attribute.type != "complex":
        raise InvalidPath(
            f"{attribute.name} is not multi-valued, so it takes no filter"
        )
    prefix = f"{schema.id}:" if schema is not None else ""
    try:
        parsed = parse_filter(f"{prefix}{attribute.name}[{text}]", resource_type)
    except InvalidFilter as ex:
        raise InvalidPath(f"the filter in {attribute.name}[...]: {ex.detail}") from None
    # The text is one bracketed attribute unless the filter closed the
    # bracket early, as in 'type eq "a"] or [x'.
    if not isinstance(parsed, filters.ValuePath):
        raise InvalidPath(f"{attribute.name}[{text}] is not one value filter")
    return parsed.filter


# Group members.


@dataclasses.dataclass
class MemberChanges:
    """What a PATCH does to a group's member list, in the order it says.

    Either a whole new list (``replacement``) or rows to add and remove.
    Dicts keep insertion order, so inserts happen in the client's order.
    """

    replacement: dict[int, None] | None = None
    added: dict[int, None] = dataclasses.field(default_factory=dict)
    removed: dict[int, None] = dataclasses.field(default_factory=dict)

    def add(self, member_ids: Iterable[int]) -> None:
        for member_id in member_ids:
            if self.replacement is not None:
                self.replacement[member_id] = None
            else:
                self.removed.pop(member_id, None)
                self.added[member_id] = None

    def remove(self, member_ids: Iterable[int]) -> None:
        for member_id in member_ids:
            if self.replacement is not None:
                self.replacement.pop(member_id, None)
            else:
                self.added.pop(member_id, None)
                self.removed[member_id] = None

    def replace(self, member_ids: Iterable[int]) -> None:
        self.replacement = dict.fromkeys(member_ids)
        self.added.clear()
        self.removed.clear()

    @property
    def unchanged(self) -> bool:
        return self.replacement is None and not self.added and not self.removed


@dataclasses.dataclass(frozen=True)
class Members:
    """How to reach a group's members, which are not in its document.

    ``load`` returns the current members as SCIM values (``value``,
    ``type``, ``display``); it is called at most once per PATCH, and only
    for a filter that cannot be answered from the filter alone. ``parse_id``
    turns a member value into a storage id, or raises InvalidValue.
    """

    load: Callable[[], list[Element]]
    parse_id: Callable[[Any], int]


class _MemberEditor:
    def __init__(self, members: Members, group_id: str) -> None:
        self._members = members
        self._group_id = group_id
        self._loaded: list[Element] | None = None
        self.changes = MemberChanges()

    def apply(self, operation: Operation, path: PatchPath, value: Any) -> None:
        if path.sub is not None:
            raise InvalidPath(
                f"{operation.where()}: members are added, replaced and removed"
                " whole; their sub-attributes cannot change"
            )
        if operation.op == "remove":
            if path.filter is not None:
                self.changes.remove(self._matching(path.filter))
            elif value is not None:
                # Entra ID removes members with {"op": "Remove", "path":
                # "members", "value": [{"value": id}]}.
                self.changes.remove(self._ids(path, value))
            else:
                self.changes.replace(())
            return
        if path.filter is not None:
            raise InvalidPath(
                f"{operation.where()}: a filter selects members to remove;"
                " to add members, add them to members"
            )
        ids = self._ids(path, value)
        if operation.op == "add":
            self.changes.add(ids)
        else:
            self.changes.replace(ids)

    def _ids(self, path: PatchPath, value: Any) -> list[int]:
        parsed = parse_value(path.attribute, value, str(path))
        if parsed is UNASSIGNED:
            return []
        ids = [self._members.parse_id(member["value"]) for member in parsed]
        if self._group_id in {str(member_id) for member_id in ids}:
            raise InvalidValue("a group cannot be a member of itself")
        return ids

    def _matching(self, value_filter: filters.Filter) -> list[int]:
        # members[value eq "id"], the form every provider sends, needs no
        # look at the current members.
        direct = _ids_from_filter(value_filter)
        if direct is not None:
            return [
                member_id
                for text in direct
                if (member_id := self._quiet_id(text)) is not None
            ]
        return [
            self._members.parse_id(item["value"])
            for item in self._current()
            if _matches(value_filter, item)
        ]

    def _quiet_id(self, value: Any) -> int | None:
        """A member id, or None for a value that names no resource."""
        try:
            return self._members.parse_id(value)
        except InvalidValue:
            return None

    def _current(self) -> list[Element]:
        """The members as the operations so far have left them."""
        if self._loaded is None:
            self._loaded = self._members.load()
        changes = self.changes
        if changes.replacement is not None:
            by_id = {item["value"]: item for item in self._loaded}
            return [
                by_id.get(str(member_id), {"value": str(member_id)})
                for member_id in changes.replacement
            ]
        removed = {str(member_id) for member_id in changes.removed}
        current = [item for item in self._loaded if item["value"] not in removed]
        current.extend({"value": str(member_id)} for member_id in changes.added)
        return current


# Applying operations.


@dataclasses.dataclass(frozen=True)
class PatchResult:
    document: Document
    members: MemberChanges


def apply_patch(
    resource_type: ResourceType,
    document: Document,
    operations: Sequence[Operation],
    *,
    resource_id: str,
    members: Members | None = None,
) -> PatchResult:
    """Apply ``operations`` in order to a copy of ``document``.

    ``members`` is given for groups, whose ``members`` attribute is kept
    outside the document; changes to it are returned, not applied.
    """
    patcher = _Patcher(resource_type, document, resource_id, members)
    for operation in operations:
        patcher.apply(operation)
    return PatchResult(patcher.document, patcher.member_changes)


class _Patcher:
    def __init__(
        self,
        resource_type: ResourceType,
        document: Document,
        resource_id: str,
        members: Members | None,
    ) -> None:
        self.resource_type = resource_type
        self.document = copy.deepcopy(document)
        self.resource_id = resource_id
        self._members = None if members is None else _MemberEditor(members, resource_id)

    @property
    def member_changes(self) -> MemberChanges:
        return MemberChanges() if self._members is None else self._members.changes

    def apply(self, operation: Operation) -> None:
        path = operation.path
        if path is None:
            self._apply_object(operation, operation.value)
        elif isinstance(path, ExtensionPath):
            self._apply_extension(operation, path.schema, operation.value)
        else:
            self._apply_path(operation, path, operation.value)

    # No path: the value is an object of attributes (RFC 7644 §3.5.2.1).

    def _apply_object(self, operation: Operation, value: Mapping[str, Any]) -> None:
        for key, item in value.items():
            if not isinstance(key, str) or key.lower() == "schemas":
                continue
            # Entra ID sends dotted ("name.givenName") and URN-qualified keys.
            try:
                path = parse_path(self.resource_type, key)
            except InvalidPath:
                # Unknown attributes are ignored here as they are in a POST
                # body, which a no-path value resembles.
                continue
            if isinstance(path, ExtensionPath):
                self._apply_extension(operation, path.schema, item)
            elif path.filter is not None:
                raise InvalidPath(f"{operation.where()}: {key!r} is not an attribute")
            elif path.read_only:
                # Okta renames a group with {"id": ..., "displayName": ...}:
                # read-only values in a body are ignored (RFC 7643 §2.2).
                self._check_id_echo(path, item)
            else:
                self._apply_path(operation, path, item)

    def _check_id_echo(self, path: PatchPath, value: Any) -> None:
        if (
            path.attribute.name == "id"
            and value is not None
            and str(value) != self.resource_id
        ):
            raise Mutability(f"id is read-only; it cannot change to {value}")

    def _apply_extension(
        self, operation: Operation, schema: Schema, value: Any
    ) -> None:
        if operation.op == "remove" or (value is None and operation.op == "replace"):
            self.document.pop(schema.id, None)
            return
        if value is None:
            return
        if not isinstance(value, Mapping):
            raise InvalidValue(f"{operation.where()}: {schema.id} takes an object")
        if operation.op == "replace":
            self.document.pop(schema.id, None)
        for key, item in value.items():
            attribute = schema.attribute(str(key))
            if attribute is None or attribute.mutability == "readOnly":
                continue
            text = f"{schema.id}:{attribute.name}"
            target = PatchPath(text=text, attribute=attribute, schema=schema)
            self._apply_path(operation, target, item)

    # A path.

    def _apply_path(self, operation: Operation, path: PatchPath, value: Any) -> None:
        if path.read_only:
            raise Mutability(f"{operation.where()}: {path} is read-only")
        if self._members is not None and _is_members(path):
            self._members.apply(operation, path, value)
            return
        if operation.op == "remove":
            self._remove(operation, path, value)
        elif path.attribute.multi_valued:
            self._set_multi(operation, path, value)
        else:
            self._set_single(path, value)
        # An extension left without attributes is no longer on the resource.
        if path.schema is not None and not self.document.get(path.schema.id):
            self.document.pop(path.schema.id, None)

    def _container(self, path: PatchPath) -> Document:
        if path.schema is None:
            return self.document
        found: Document = self.document.setdefault(path.schema.id, {})
        return found

    def _set_single(self, path: PatchPath, value: Any) -> None:
        attribute = path.attribute
        container = self._container(path)
        if path.sub is not None:
            parsed = parse_value(path.sub, value, str(path))
            current = container.get(attribute.name) or {}
            _assign(
                container, attribute.name, _with_sub(current, path.sub.name, parsed)
            )
            return
        # Entra ID sends the enterprise manager as a bare id string, and in
        # another of its documented requests as a list of one object.
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if attribute.type == "complex" and isinstance(value, str):
            value = {"value": value}
        parsed = parse_value(attribute, value, str(path))
        current = container.get(attribute.name)
        if parsed is not UNASSIGNED and attribute.type == "complex" and current:
            # add and replace both merge into a singular complex attribute:
            # the sub-attributes the value leaves out stay as they are.
            parsed = {**current, **parsed}
        _assign(container, attribute.name, None if parsed is UNASSIGNED else parsed)

    def _set_multi(self, operation: Operation, path: PatchPath, value: Any) -> None:
        attribute = path.attribute
        container = self._container(path)
        elements: list[Any] = list(container.get(attribute.name) or [])
        if path.filter is not None:
            elements = self._set_filtered(operation, path, path.filter, value, elements)
        elif path.sub is not None:
            # emails.value without a filter: every value, or a first one.
            parsed = parse_value(path.sub, value, str(path))
            elements = [
                _with_sub(item, path.sub.name, parsed) for item in elements or [{}]
            ]
            _single_primary(attribute, elements, touched=elements)
        else:
            parsed = parse_value(attribute, value, str(path))
            new = [] if parsed is UNASSIGNED else list(parsed)
            if operation.op == "replace":
                elements = new
            else:
                # add appends, and a value already present is not added twice.
                elements.extend(item for item in new if item not in elements)
            _single_primary(attribute, elements, touched=new)
        _assign(container, attribute.name, [item for item in elements if item != {}])

    def _set_filtered(
        self,
        operation: Operation,
        path: PatchPath,
        selected: filters.Filter,
        value: Any,
        elements: list[Any],
    ) -> list[Any]:
        """``emails[type eq "work"]`` or ``emails[type eq "work"].value``."""
        change = self._element_change(operation, path, value)
        matched = [i for i, item in enumerate(elements) if _matches(selected, item)]
        if not matched:
            # RFC 7644 §3.5.2.3 answers noTarget to a replace whose filter
            # matches nothing. Entra ID sends such filtered adds, and also
            # replaces, for a value the user does not have yet, meaning
            # "create it": when the filter is only equalities, the element
            # it describes is unambiguous, so it is created, once; a second
            # operation on the same filter then finds it.
            template = _element_from_filter(selected)
            if template is None:
                raise NoTarget(f"{operation.where()}: no value matches the filter")
            elements.append(template)
            matched = [len(elements) - 1]
        for index in matched:
            elements[index] = change(elements[index])
        _single_primary(path.attribute, elements, [elements[i] for i in matched])
        return elements

    def _element_change(
        self, operation: Operation, path: PatchPath, value: Any
    ) -> Callable[[Element], Element]:
        """How one selected value changes: a sub-attribute, a merge, a swap."""
        if path.sub is not None:
            sub_name = path.sub.name
            parsed_sub = parse_value(path.sub, value, str(path))
            return lambda element: _with_sub(element, sub_name, parsed_sub)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        parsed = parse_value(path.attribute, value, str(path))
        if parsed is UNASSIGNED or len(parsed) != 1:
            raise InvalidValue(f"{operation.where()}: the value must be one object")
        (new,) = parsed
        if operation.op == "add":
            return lambda element: {**element, **new}
        return lambda element: dict(new)

    def _remove(self, operation: Operation, path: PatchPath, value: Any) -> None:
        attribute = path.attribute
        container = self._container(path)
        if attribute.name not in container:
            # Removing what is not there leaves the resource as asked.
            return
        if path.sub is not None and path.sub.required:
            raise Mutability(f"{operation.where()}: {path.sub.name} is required")
        if path.sub is None and attribute.mutability == "immutable":
            raise Mutability(f"{operation.where()}: {attribute.name} is immutable")
        if attribute.multi_valued:
            remaining = self._remaining(path, value, container[attribute.name])
            left: Any = [item for item in remaining if item != {}]
        elif path.sub is not None:
            left = _without(container[attribute.name], path.sub.name)
        else:
            left = None
        if attribute.required and left in (None, [], {}):
            # RFC 7644 §3.5.2.2: removing a required attribute is mutability.
            raise Mutability(f"{operation.where()}: {attribute.name} is required")
        _assign(container, attribute.name, left)

    def _remaining(self, path: PatchPath, value: Any, elements: list[Any]) -> list[Any]:
        """The values of a multi-valued attribute that a remove leaves."""
        if path.filter is not None:
            selected = path.filter
            if path.sub is None:
                return [item for item in elements if not _matches(selected, item)]
            sub_name = path.sub.name
            return [
                _without(item, sub_name) if _matches(selected, item) else item
                for item in elements
            ]
        if path.sub is not None:
            return [_without(item, path.sub.name) for item in elements]
        if value is None or path.attribute.type != "complex":
            return []
        # {"op": "remove", "path": "emails", "value": [{...}]} removes the
        # listed values and keeps the others, as Entra ID does for members.
        doomed = parse_value(path.attribute, value, str(path))
        doomed = [] if doomed is UNASSIGNED else doomed
        return [
            item
            for item in elements
            if not any(_contains(item, gone) for gone in doomed)
        ]


def _is_members(path: PatchPath) -> bool:
    return path.schema is None and path.attribute.name == "members"


def _assign(container: Document, name: str, value: Any) -> None:
    """Set ``name``, or drop it when the value leaves it unassigned."""
    if value is None or value == [] or value == {}:
        container.pop(name, None)
    else:
        container[name] = value


def _with_sub(element: Any, name: str, value: Any) -> Element:
    updated = dict(element) if isinstance(element, Mapping) else {}
    if value is UNASSIGNED:
        updated.pop(name, None)
    else:
        updated[name] = value
    return updated


def _without(element: Any, name: str) -> Any:
    if not isinstance(element, Mapping):
        return element
    return {key: item for key, item in element.items() if key != name}


def _contains(element: Any, wanted: Any) -> bool:
    """Whether ``element`` has every sub-attribute value that ``wanted`` has."""
    if not isinstance(element, Mapping) or not isinstance(wanted, Mapping):
        return bool(element == wanted)
    return all(element.get(key) == item for key, item in wanted.items())


def _single_primary(
    attribute: Attribute, elements: list[Any], touched: Sequence[Any]
) -> None:
    """``primary: true`` on one value clears it on the others (RFC 7643 §2.4).

    When one operation marks several values primary, the last one keeps it.
    """
    if attribute.sub_attribute("primary") is None:
        return
    chosen = [item for item in touched if _is_primary(item)]
    if not chosen:
        return
    keep = chosen[-1]
    for index, item in enumerate(elements):
        if item is not keep and _is_primary(item):
            elements[index] = _without(item, "primary")


def _is_primary(element: Any) -> bool:
    return isinstance(element, Mapping) and element.get("primary") is True


def _ids_from_filter(node: filters.Filter) -> list[str] | None:
    """The ids of ``value eq "a" or value eq "b"``, or None for other filters."""
    if isinstance(node, filters.Or):
        left = _ids_from_filter(node.left)
        right = _ids_from_filter(node.right)
        return None if left is None or right is None else left + right
    if (
        isinstance(node, filters.Compare)
        and node.op == "eq"
        and node.path.sub == "value"
        and isinstance(node.value, str)
    ):
        return [node.value]
    return None


def _element_from_filter(node: filters.Filter) -> Element | None:
    """The element an all-equalities filter describes, or None."""
    if isinstance(node, filters.And):
        left = _element_from_filter(node.left)
        right = _element_from_filter(node.right)
        if left is None or right is None or left.keys() & right.keys():
            return None
        return {**left, **right}
    if isinstance(node, filters.Compare) and node.op == "eq" and node.path.sub:
        value = node.value
        if isinstance(value, datetime.datetime):
            value = value.isoformat().replace("+00:00", "Z")
        return {node.path.sub: value}
    return None


# Matching one value of a multi-valued attribute against a bracket filter,
# with the semantics of storage.filters: absent, null and "" never compare;
# strings of caseExact=false attributes compare case-folded (the filter's
# value arrives folded already).

_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda value, expected: bool(value == expected),
    "ne": lambda value, expected: bool(value != expected),
    "gt": lambda value, expected: bool(value > expected),
    "ge": lambda value, expected: bool(value >= expected),
    "lt": lambda value, expected: bool(value < expected),
    "le": lambda value, expected: bool(value <= expected),
}
_TEXT_TESTS: dict[str, Callable[[str, str], bool]] = {
    "co": lambda value, expected: expected in value,
    "sw": str.startswith,
    "ew": str.endswith,
}


def _matches(node: filters.Filter, element: Any) -> bool:
    if isinstance(node, filters.And):
        return _matches(node.left, element) and _matches(node.right, element)
    if isinstance(node, filters.Or):
        return _matches(node.left, element) or _matches(node.right, element)
    if isinstance(node, filters.Not):
        return not _matches(node.inner, element)
    if isinstance(node, filters.ValuePath):
        return _matches(node.filter, element)
    if not isinstance(element, Mapping) or node.path.sub is None:
        return False
    value = element.get(node.path.sub)
    if value is None or value == "":
        return False
    if isinstance(node, filters.Present):
        return True
    return _compare(node, value)


def _compare(node: filters.Compare, value: Any) -> bool:
    if isinstance(value, str) and not node.path.case_exact:
        value = value.casefold()
    if node.path.type == "dateTime" and isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if node.op in _TEXT_TESTS:
        expected = node.value
        if not isinstance(value, str) or not isinstance(expected, str):
            return False
        return _TEXT_TESTS[node.op](value, expected)
    try:
        return _ORDERINGS[node.op](value, node.value)
    except TypeError:
        # A stored value of another type than the schema's never matches.
        return False
