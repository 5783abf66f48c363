"""Checking and normalising a resource that a client sent (RFC 7643 §2).

``parse_resource`` turns a request body into the canonical document the
server stores: attribute names spelled as the schema spells them, values of
the schema's types, read-only attributes dropped, unknown attributes dropped,
required attributes present. It is lenient where identity providers are known
to deviate and the meaning is still clear, and strict otherwise.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import math
from collections.abc import Mapping
from typing import Any

from scim_server.errors import InvalidSyntax, InvalidValue, Mutability
from scim_server.schema import Attribute, ResourceType, Schema

Document = dict[str, Any]

# The value "null" and an empty list both mean "unassigned" (RFC 7644
# §3.5.1); such keys are left out of the stored document.
UNASSIGNED: Any = object()


def parse_resource(resource_type: ResourceType, body: Any) -> Document:
    """Validate ``body`` against ``resource_type`` and return its document."""
    if not isinstance(body, Mapping):
        raise InvalidSyntax("the request body must be a JSON object")
    _check_schemas(resource_type, body.get(_key(body, "schemas")))
    document: Document = {}
    for key, value in body.items():
        _parse_top_level(resource_type, document, key, value)
    present = [
        extension.id
        for extension in resource_type.extensions
        if extension.id in document
    ]
    document["schemas"] = [resource_type.schema.id, *present]
    _check_required(resource_type.schema, document, "")
    for extension in resource_type.extensions:
        if extension.id in document:
            _check_required(extension, document[extension.id], f"{extension.id}:")
    return document


def check_immutable(resource_type: ResourceType, old: Document, new: Document) -> None:
    """Refuse a replacement that changes an immutable attribute (RFC 7644 §3.5.1).

    Only singular attributes are compared: an element of a multi-valued
    attribute is replaced as a whole, so its immutable sub-attributes hold
    within an element, not across the list.
    """
    for schema, old_part, new_part in _parts(resource_type, old, new):
        for attribute in schema.attributes:
            if attribute.mutability != "immutable" or attribute.multi_valued:
                continue
            before = old_part.get(attribute.name)
            after = new_part.get(attribute.name)
            if before is not None and before != after:
                raise Mutability(f"{attribute.name} is immutable and cannot change")


def _parts(
    resource_type: ResourceType, old: Document, new: Document
) -> list[tuple[Schema, Document, Document]]:
    parts = [(resource_type.schema, old, new)]
    for extension in resource_type.extensions:
        parts.append((extension, old.get(extension.id, {}), new.get(extension.id, {})))
    return parts


def _key(body: Mapping[str, Any], name: str) -> str:
    """The key in ``body`` that spells ``name`` in any case, or ``name``."""
    for key in body:
        if isinstance(key, str) and key.lower() == name.lower():
            return key
    return name


def _check_schemas(resource_type: ResourceType, schemas: Any) -> None:
    if schemas is None:
        # The Databricks SDK sends groups and users without "schemas"; the
        # endpoint leaves one meaning, the resource type's core schema.
        return
    if isinstance(schemas, str):
        schemas = [schemas]
    if not isinstance(schemas, list) or not all(isinstance(s, str) for s in schemas):
        raise InvalidValue('"schemas" must be a list of schema URNs')
    # Other URNs are tolerated: Entra ID adds a URN of its own to groups.
    if resource_type.schema.id.lower() not in {s.lower() for s in schemas}:
        raise InvalidValue(f'"schemas" must include {resource_type.schema.id}')


def _parse_top_level(
    resource_type: ResourceType, document: Document, key: str, value: Any
) -> None:
    if key.lower() == "schemas":
        return
    extension = resource_type.extension(key)
    if extension is not None:
        if value is None:
            return
        if not isinstance(value, Mapping):
            raise InvalidValue(f"{extension.id} must be a JSON object")
        parsed: Document = {}
        for sub_key, sub_value in value.items():
            attribute = extension.attribute(sub_key)
            if attribute is not None:
                _store(parsed, attribute, sub_value, f"{extension.id}:")
        if parsed:
            document[extension.id] = parsed
        return
    attribute = resource_type.core_attribute(_strip_core_urn(resource_type, key))
    if attribute is not None:
        _store(document, attribute, value, "")
    # TODO: unknown attributes are dropped silently, which is what identity
    # providers expect, but a typo in an attribute name then goes unnoticed;
    # a strict mode that answers 400 invalidPath would help careful clients.


def _strip_core_urn(resource_type: ResourceType, key: str) -> str:
    """``urn:...:core:2.0:User:userName`` -> ``userName``; others unchanged."""
    prefix = resource_type.schema.id.lower() + ":"
    return key[len(prefix) :] if key.lower().startswith(prefix) else key


def _store(document: Document, attribute: Attribute, value: Any, where: str) -> None:
    # readOnly values SHALL be ignored in requests (RFC 7643 §2.2).
    if attribute.mutability == "readOnly":
        return
    parsed = parse_value(attribute, value, where + attribute.name)
    if parsed is not UNASSIGNED:
        document[attribute.name] = parsed


def parse_value(attribute: Attribute, value: Any, path: str) -> Any:
    """Coerce ``value`` to ``attribute``'s type, or raise InvalidValue."""
    if value is None:
        return UNASSIGNED
    if not attribute.multi_valued:
        if isinstance(value, list):
            raise InvalidValue(f"{path} is single-valued; got a list")
        return _parse_single(attribute, value, path)
    # OneLogin sends a single object for "emails"; a lone value of any
    # multi-valued attribute has one sensible meaning, a one-element list.
    items = value if isinstance(value, list) else [value]
    parsed = [
        _parse_single(attribute, item, path) for item in items if item is not None
    ]
    parsed = [item for item in parsed if item is not UNASSIGNED]
    return parsed if parsed else UNASSIGNED


def _parse_single(attribute: Attribute, value: Any, path: str) -> Any:
    if attribute.type == "complex":
        return _parse_complex(attribute, value, path)
    parser = _SIMPLE_PARSERS[attribute.type]
    try:
        return parser(value)
    except (TypeError, ValueError) as ex:
        raise InvalidValue(f"{path}: {ex}") from None


def _parse_complex(attribute: Attribute, value: Any, path: str) -> Any:
    if not isinstance(value, Mapping):
        raise InvalidValue(f"{path} must be a JSON object")
    parsed: Document = {}
    for key, sub_value in value.items():
        sub = attribute.sub_attribute(key)
        if sub is not None:
            _store(parsed, sub, sub_value, f"{path}.")
    for sub in attribute.sub_attributes:
        if sub.required and sub.name not in parsed:
            raise InvalidValue(f"{path}.{sub.name} is required")
    return parsed if parsed else UNASSIGNED


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {_json_type(value)}")
    return value


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    # Entra ID sends booleans as the strings "True" and "False".
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise TypeError(f"expected a boolean, got {_json_type(value)}")


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {_json_type(value)}")
    return value


def _decimal(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {_json_type(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _date_time(value: Any) -> str:
    text = _string(value)
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an xsd:dateTime") from None
    if parsed.tzinfo is None:
        # xsd:dateTime without an offset has no fixed instant; UTC is the
        # only reading that keeps later comparisons meaningful.
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.isoformat().replace("+00:00", "Z")


def _binary(value: Any) -> str:
    text = _string(value)
    try:
        base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("expected base64-encoded binary data") from None
    return text


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


_SIMPLE_PARSERS = {
    "string": _string,
    "reference": _string,
    "boolean": _boolean,
    "integer": _integer,
    "decimal": _decimal,
    "dateTime": _date_time,
    "binary": _binary,
}


def _check_required(schema: Schema, document: Mapping[str, Any], where: str) -> None:
    for attribute in schema.attributes:
        if attribute.required and attribute.mutability != "readOnly":
            value = document.get(attribute.name)
            if value is None or value == "":
                raise InvalidValue(f"{where}{attribute.name} is required")
