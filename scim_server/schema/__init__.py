"""SCIM schemas as data (RFC 7643 §7), and the resource types built on them.

The schema documents in ``data/`` are served verbatim by ``/Schemas`` and
drive validation and projection, so what the server advertises and what it
enforces cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

import orjson

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SERVICE_PROVIDER_CONFIG_SCHEMA = (
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
)
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"


@dataclasses.dataclass(frozen=True)
class Attribute:
    """One attribute definition with its characteristics (RFC 7643 §7)."""

    name: str
    type: str
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()

    @functools.cached_property
    def _by_key(self) -> dict[str, Attribute]:
        return {sub.name.lower(): sub for sub in self.sub_attributes}

    def sub_attribute(self, name: str) -> Attribute | None:
        """The sub-attribute called ``name``, matched case-insensitively."""
        return self._by_key.get(name.lower())

    @classmethod
    def from_document(cls, data: Mapping[str, Any]) -> Attribute:
        return cls(
            name=data["name"],
            type=data["type"],
            multi_valued=data.get("multiValued", False),
            required=data.get("required", False),
            case_exact=data.get("caseExact", False),
            mutability=data.get("mutability", "readWrite"),
            returned=data.get("returned", "default"),
            uniqueness=data.get("uniqueness", "none"),
            sub_attributes=tuple(
                cls.from_document(sub) for sub in data.get("subAttributes", ())
            ),
            canonical_values=tuple(data.get("canonicalValues", ())),
        )


@dataclasses.dataclass(frozen=True)
class Schema:
    id: str
    name: str
    attributes: tuple[Attribute, ...]
    document: Mapping[str, Any]

    @functools.cached_property
    def _by_key(self) -> dict[str, Attribute]:
        return {attribute.name.lower(): attribute for attribute in self.attributes}

    def attribute(self, name: str) -> Attribute | None:
        """The attribute called ``name``, matched case-insensitively."""
        return self._by_key.get(name.lower())

    @classmethod
    def load(cls, filename: str) -> Schema:
        raw = resources.files(__package__).joinpath("data", filename).read_bytes()
        document = orjson.loads(raw)
        return cls(
            id=document["id"],
            name=document["name"],
            attributes=tuple(
                Attribute.from_document(item) for item in document["attributes"]
            ),
            document=document,
        )


# The common attributes of every resource (RFC 7643 §3.1). They belong to no
# schema document, so they are defined here.
ID = Attribute(
    "id",
    "string",
    case_exact=True,
    mutability="readOnly",
    returned="always",
    uniqueness="server",
)
EXTERNAL_ID = Attribute("externalId", "string", case_exact=True)
META = Attribute(
    "meta",
    "complex",
    mutability="readOnly",
    sub_attributes=(
        Attribute("resourceType", "string", case_exact=True, mutability="readOnly"),
        Attribute("created", "dateTime", mutability="readOnly"),
        Attribute("lastModified", "dateTime", mutability="readOnly"),
        Attribute("location", "reference", case_exact=True, mutability="readOnly"),
        Attribute("version", "string", case_exact=True, mutability="readOnly"),
    ),
)
COMMON_ATTRIBUTES = (ID, EXTERNAL_ID, META)


@dataclasses.dataclass(frozen=True)
class ResourceType:
    """A kind of resource and the schemas that describe it (RFC 7643 §6)."""

    name: str
    endpoint: str
    description: str
    schema: Schema
    extensions: tuple[Schema, ...] = ()

    @functools.cached_property
    def _core_by_key(self) -> dict[str, Attribute]:
        found = {
            attribute.name.lower(): attribute for attribute in self.schema.attributes
        }
        found.update((common.name.lower(), common) for common in COMMON_ATTRIBUTES)
        return found

    @functools.cached_property
    def _extensions_by_key(self) -> dict[str, Schema]:
        return {extension.id.lower(): extension for extension in self.extensions}

    def core_attribute(self, name: str) -> Attribute | None:
        """A core or common attribute by name, matched case-insensitively."""
        return self._core_by_key.get(name.lower())

    def extension(self, urn: str) -> Schema | None:
        return self._extensions_by_key.get(urn.lower())

    def schemas(self) -> Iterator[Schema]:
        yield self.schema
        yield from self.extensions

    def document(self) -> dict[str, Any]:
        """The ResourceType resource served by ``/ResourceTypes``."""
        return {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.schema.id,
            "schemaExtensions": [
                {"schema": extension.id, "required": False}
                for extension in self.extensions
            ],
            "meta": {
                "resourceType": "ResourceType",
                "location": f"/ResourceTypes/{self.name}",
            },
        }


@functools.cache
def user_type() -> ResourceType:
    return ResourceType(
        name="User",
        endpoint="/Users",
        description="A person who can be provisioned and hold access tokens",
        schema=Schema.load("user.json"),
        extensions=(Schema.load("enterprise_user.json"),),
    )


@functools.cache
def group_type() -> ResourceType:
    return ResourceType(
        name="Group",
        endpoint="/Groups",
        description="A named collection of users and other groups",
        schema=Schema.load("group.json"),
    )


def resource_types() -> tuple[ResourceType, ...]:
    return (user_type(), group_type())
