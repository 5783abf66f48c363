"""A resource type of the tests' own, for characteristics no SCIM schema uses.

The User and Group schemas have no immutable attribute, no attribute
returned only on request, and no hidden sub-attribute; Widget has each, in
its core schema and in an extension, so validation and projection can be
tested against them.
"""

from __future__ import annotations

from scim_server.schema import Attribute, ResourceType, Schema

WIDGET_SCHEMA = "urn:example:scim:schemas:core:2.0:Widget"
WIDGET_EXTENSION = "urn:example:scim:schemas:extension:factory:2.0:Widget"

WIDGET = ResourceType(
    # Projection caches per resource type name: no real type is called this.
    name="Widget",
    endpoint="/Widgets",
    description="Something made in a factory",
    schema=Schema(
        id=WIDGET_SCHEMA,
        name="Widget",
        document={},
        attributes=(
            Attribute("serial", "string", required=True, mutability="immutable"),
            Attribute("label", "string"),
            Attribute("size", "integer"),
            Attribute("weight", "decimal"),
            Attribute("built", "dateTime"),
            Attribute("firmware", "binary"),
            Attribute("pin", "string", mutability="writeOnly", returned="never"),
            Attribute("audit", "string", returned="request"),
            Attribute("aliases", "string", multi_valued=True, mutability="immutable"),
            Attribute(
                "parts",
                "complex",
                multi_valued=True,
                sub_attributes=(
                    Attribute("value", "string", required=True),
                    Attribute("checksum", "string", returned="request"),
                    Attribute("key", "string", returned="never"),
                ),
            ),
        ),
    ),
    extensions=(
        Schema(
            id=WIDGET_EXTENSION,
            name="Factory",
            document={},
            attributes=(
                Attribute("batch", "string", mutability="immutable"),
                Attribute("line", "string"),
                Attribute("notes", "string", returned="request"),
                Attribute("plant", "string", returned="always"),
            ),
        ),
    ),
)
