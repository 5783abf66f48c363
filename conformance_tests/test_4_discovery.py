"""Discovery endpoints: RFC 7644 §4, with the resources of RFC 7643 §5-§7."""

from __future__ import annotations

import pytest

from conformance_tests.scim_http import (
    GROUP_SCHEMA,
    USER_SCHEMA,
    assert_list_response,
    assert_scim_error,
)

SERVICE_PROVIDER_CONFIG_SCHEMA = (
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
)
# RFC 7643 §2.3 and §7.
ATTRIBUTE_TYPES = {
    "string",
    "boolean",
    "decimal",
    "integer",
    "dateTime",
    "binary",
    "reference",
    "complex",
}


def test_service_provider_config_describes_every_feature(client):
    """RFC 7644 §4: /ServiceProviderConfig SHALL answer with its schema URN;
    RFC 7643 §5: patch, bulk, filter, changePassword, sort, etag and
    authenticationSchemes are REQUIRED, each feature with a boolean
    supported."""
    response = client.get("/ServiceProviderConfig")

    assert response.status == 200, str(response)
    config = response.json()
    assert config["schemas"] == [SERVICE_PROVIDER_CONFIG_SCHEMA]
    for feature in ("patch", "bulk", "filter", "changePassword", "sort", "etag"):
        assert isinstance(config[feature]["supported"], bool), feature
    for limit in ("maxOperations", "maxPayloadSize"):
        assert isinstance(config["bulk"][limit], int), limit
    assert isinstance(config["filter"]["maxResults"], int)
    assert config["authenticationSchemes"]
    for scheme in config["authenticationSchemes"]:
        assert {"type", "name", "description"} <= set(scheme)


def test_resource_types_are_a_list_response(client):
    """RFC 7644 §4: /ResourceTypes SHALL answer with a ListResponse; RFC 7643
    §6: each has a name, an endpoint and a schema; RFC 7644 §3.2 puts Users
    and Groups at /Users and /Groups."""
    page = assert_list_response(client.get("/ResourceTypes"))

    by_name = {item["name"]: item for item in page["Resources"]}
    for item in by_name.values():
        assert {"name", "endpoint", "schema"} <= set(item)
    assert by_name["User"]["endpoint"] == "/Users"
    assert by_name["User"]["schema"] == USER_SCHEMA
    assert by_name["Group"]["endpoint"] == "/Groups"
    assert by_name["Group"]["schema"] == GROUP_SCHEMA


@pytest.mark.parametrize("name", ["User", "Group"])
def test_a_resource_type_by_name(client, resource_types, name):
    """RFC 7644 §4: a single ResourceType is returned as one JSON object, as
    a single resource is (§3.4.1)."""
    response = client.get(f"/ResourceTypes/{name}")

    assert response.status == 200, str(response)
    assert response.json()["name"] == name
    assert response.json()["schema"] == resource_types[name]["schema"]


def test_schemas_cover_every_resource_type(client, resource_types):
    """RFC 7644 §4: /Schemas SHALL return all supported schemas, as a
    ListResponse: the core schema and extensions of every resource type."""
    page = assert_list_response(client.get("/Schemas"))

    served = {schema["id"] for schema in page["Resources"]}
    for item in resource_types.values():
        assert item["schema"] in served
        for extension in item.get("schemaExtensions", []):
            assert extension["schema"] in served


def test_each_schema_at_its_own_url(client, schemas):
    """RFC 7644 §4: a schema is served on its own at /Schemas/<its URI>."""
    for schema_id, schema in schemas.items():
        response = client.get(f"/Schemas/{schema_id}")
        assert response.status == 200, str(response)
        assert response.json()["id"] == schema_id
        assert response.json()["attributes"] == schema["attributes"]


def test_schema_attributes_are_defined(schemas):
    """RFC 7643 §7: every attribute definition names the attribute and one of
    SCIM's data types, and a complex attribute lists its sub-attributes."""
    for schema in schemas.values():
        for attribute in _definitions(schema["attributes"]):
            where = f"{schema['id']}:{attribute.get('name')}"
            assert attribute["name"], where
            assert attribute["type"] in ATTRIBUTE_TYPES, where
            assert isinstance(attribute.get("multiValued", False), bool), where
            if attribute["type"] == "complex":
                assert attribute.get("subAttributes"), where


USER_CHARACTERISTICS = [
    ("userName", "required", True),
    ("userName", "caseExact", False),
    ("userName", "uniqueness", "server"),
    ("password", "mutability", "writeOnly"),
    ("password", "returned", "never"),
    ("groups", "mutability", "readOnly"),
    ("emails", "multiValued", True),
]


@pytest.mark.parametrize(("name", "characteristic", "value"), USER_CHARACTERISTICS)
def test_user_schema_characteristics(schemas, name, characteristic, value):
    """RFC 7643 §4.1 and §8.7.1: the characteristics of the User attributes
    that clients rely on: a required, case-insensitive and unique userName,
    a password that is written and never read, groups that only the Group
    changes."""
    [attribute] = [
        item for item in schemas[USER_SCHEMA]["attributes"] if item["name"] == name
    ]

    assert attribute[characteristic] == value


@pytest.mark.parametrize("path", ["/Schemas", "/ResourceTypes"])
def test_paging_parameters_are_ignored(client, path):
    """RFC 7644 §4: on the discovery endpoints, the query parameters of
    §3.4.2, such as paging and sorting, SHALL be ignored."""
    everything = assert_list_response(client.get(path))

    paged = assert_list_response(
        client.get(path, {"startIndex": 2, "count": 1, "sortBy": "name"})
    )

    assert paged["totalResults"] == everything["totalResults"]
    assert paged["Resources"] == everything["Resources"]


@pytest.mark.parametrize("path", ["/Schemas", "/ResourceTypes"])
def test_a_filter_is_refused_with_403(client, path):
    """RFC 7644 §4: a filter on a discovery endpoint SHOULD be answered 403,
    so that no client takes the full list for a filtered one."""
    response = client.get(path, {"filter": 'name eq "User"'})

    assert_scim_error(response, 403)


def test_an_unknown_schema_is_404(client):
    """RFC 7644 §3.12: a resource that does not exist is 404."""
    response = client.get("/Schemas/urn:example:params:scim:schemas:NoSuchThing")

    assert_scim_error(response, 404)


@pytest.mark.beyond_rfc
@pytest.mark.parametrize(
    "path", ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"]
)
def test_discovery_needs_no_token(client, path):
    """RFC 7644 §4 leaves open whether discovery needs credentials; this
    repository serves it without, so that a client can learn how to
    authenticate before it has a token (README, "Discovery without a
    token")."""
    response = client.without_token().get(path)

    assert response.status == 200, str(response)


def _definitions(attributes):
    for attribute in attributes:
        yield attribute
        yield from _definitions(attribute.get("subAttributes", []))
