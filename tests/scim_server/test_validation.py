"""Turning request bodies into stored documents (RFC 7643 §2, RFC 7644 §3.5.1)."""

from __future__ import annotations

from typing import Any

import pytest

from scim_server.errors import InvalidSyntax, InvalidValue, Mutability
from scim_server.schema import ENTERPRISE_USER_SCHEMA as ENTERPRISE
from scim_server.schema import GROUP_SCHEMA, USER_SCHEMA, group_type, user_type
from scim_server.schema.validation import check_immutable, parse_resource
from tests.scim_server.widgets import WIDGET, WIDGET_EXTENSION, WIDGET_SCHEMA


def user(**attributes: Any) -> dict[str, Any]:
    """A User body with a userName, plus ``attributes``."""
    return {"schemas": [USER_SCHEMA], "userName": "bjensen", **attributes}


def stored_user(**attributes: Any) -> dict[str, Any]:
    """What ``user(**sent)`` is stored as, when it keeps ``attributes``."""
    return {"userName": "bjensen", **attributes, "schemas": [USER_SCHEMA]}


def widget(**attributes: Any) -> dict[str, Any]:
    return {"schemas": [WIDGET_SCHEMA], "serial": "W-1", **attributes}


def test_a_minimal_user_is_stored_as_sent():
    assert parse_resource(user_type(), user()) == stored_user()


# Attribute names are case-insensitive (RFC 7643 §2.1); the stored document
# spells each as its schema does, whatever the client sent.
@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ({"DISPLAYNAME": "Babs"}, {"displayName": "Babs"}),
        ({"Name": {"GIVENNAME": "Barbara"}}, {"name": {"givenName": "Barbara"}}),
        (
            {"eMails": [{"Value": "b@example.com", "TYPE": "work"}]},
            {"emails": [{"value": "b@example.com", "type": "work"}]},
        ),
        ({f"{USER_SCHEMA}:nickName": "Babs"}, {"nickName": "Babs"}),
        ({f"{USER_SCHEMA.upper()}:NICKNAME": "Babs"}, {"nickName": "Babs"}),
    ],
)
def test_names_in_any_case_are_stored_as_the_schema_spells_them(sent, stored):
    assert parse_resource(user_type(), user(**sent)) == stored_user(**stored)


def test_schemas_and_user_name_are_found_in_any_case():
    body = {"SCHEMAS": [USER_SCHEMA.upper()], "USERNAME": "bjensen"}

    assert parse_resource(user_type(), body) == stored_user()


# Entra ID sends booleans as the strings "True" and "False".
@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (True, True),
        (False, False),
        ("True", True),
        ("False", False),
        ("TRUE", True),
        ("false", False),
    ],
)
def test_booleans_may_arrive_as_strings(sent, stored):
    document = parse_resource(user_type(), user(active=sent))

    assert document["active"] is stored


# Each wrong value is refused with invalidValue and a detail that names the
# attribute, by its path, and what was wrong with it.
@pytest.mark.parametrize(
    ("sent", "detail"),
    [
        ({"userName": 5}, "userName: expected a string, got a number"),
        ({"userName": ["bjensen"]}, "userName is single-valued; got a list"),
        ({"active": "yes"}, "active: expected a boolean, got a string"),
        ({"active": 1}, "active: expected a boolean, got a number"),
        ({"active": ""}, "active: expected a boolean, got a string"),
        ({"name": "Babs Jensen"}, "name must be a JSON object"),
        ({"name": {"givenName": 7}}, "name.givenName: expected a string, got a number"),
        ({"emails": "b@example.com"}, "emails must be a JSON object"),
        ({"emails": [{"primary": "yes"}]}, "emails.primary: expected a boolean"),
        (
            {"x509Certificates": [{"value": "not base64!"}]},
            "x509Certificates.value: expected base64-encoded binary data",
        ),
        ({ENTERPRISE: "Sales"}, f"{ENTERPRISE} must be a JSON object"),
        (
            {ENTERPRISE: {"manager": "42"}},
            f"{ENTERPRISE}:manager must be a JSON object",
        ),
        (
            {ENTERPRISE: {"employeeNumber": 42}},
            f"{ENTERPRISE}:employeeNumber: expected a string, got a number",
        ),
    ],
)
def test_values_of_the_wrong_type_are_invalid_values_naming_the_path(sent, detail):
    with pytest.raises(InvalidValue) as excinfo:
        parse_resource(user_type(), user(**sent))

    assert excinfo.value.scim_type == "invalidValue"
    assert excinfo.value.detail.startswith(detail)


@pytest.mark.parametrize(
    ("attribute", "sent", "stored"),
    [
        ("size", 3, 3),
        ("weight", 2.5, 2.5),
        ("weight", 2, 2),
        ("built", "2026-01-15T09:30:00Z", "2026-01-15T09:30:00Z"),
        ("built", "2026-01-15T09:30:00+00:00", "2026-01-15T09:30:00Z"),
        ("built", "2026-01-15T10:30:00+01:00", "2026-01-15T10:30:00+01:00"),
        # Without an offset the time has no instant; it is read as UTC.
        ("built", "2026-01-15T09:30:00", "2026-01-15T09:30:00Z"),
        ("firmware", "AAEC", "AAEC"),
    ],
)
def test_numbers_timestamps_and_binary_are_stored_in_their_type(
    attribute, sent, stored
):
    document = parse_resource(WIDGET, widget(**{attribute: sent}))

    assert document[attribute] == stored


@pytest.mark.parametrize(
    ("attribute", "sent", "detail"),
    [
        ("size", 2.5, "size: expected an integer, got a number"),
        ("size", "3", "size: expected an integer, got a string"),
        ("size", True, "size: expected an integer, got a boolean"),
        ("weight", "2.5", "weight: expected a number, got a string"),
        ("weight", False, "weight: expected a number, got a boolean"),
        ("weight", float("nan"), "weight: expected a finite number"),
        ("built", "yesterday", "built: 'yesterday' is not an xsd:dateTime"),
        ("built", 1768469400, "built: expected a string, got a number"),
        ("firmware", "AAE", "firmware: expected base64-encoded binary data"),
    ],
)
def test_values_outside_their_type_are_refused(attribute, sent, detail):
    with pytest.raises(InvalidValue) as excinfo:
        parse_resource(WIDGET, widget(**{attribute: sent}))

    assert excinfo.value.detail == detail


@pytest.mark.parametrize(
    ("resource_type", "body", "detail"),
    [
        (user_type(), {"schemas": [USER_SCHEMA]}, "userName is required"),
        (user_type(), user(userName=None), "userName is required"),
        (user_type(), user(userName=""), "userName is required"),
        (group_type(), {"schemas": [GROUP_SCHEMA]}, "displayName is required"),
        (WIDGET, {"schemas": [WIDGET_SCHEMA]}, "serial is required"),
        (WIDGET, widget(parts=[{"checksum": "c1"}]), "parts.value is required"),
    ],
)
def test_required_attributes_must_have_a_value(resource_type, body, detail):
    with pytest.raises(InvalidValue) as excinfo:
        parse_resource(resource_type, body)

    assert excinfo.value.detail == detail


# OneLogin sends a single object for "emails".
def test_a_single_object_for_a_multi_valued_attribute_is_a_list_of_one():
    document = parse_resource(
        user_type(), user(emails={"value": "b@example.com", "primary": "True"})
    )

    assert document["emails"] == [{"value": "b@example.com", "primary": True}]


# null and [] both mean "no value" (RFC 7644 §3.5.1): nothing is stored.
@pytest.mark.parametrize(
    "sent",
    [
        {"displayName": None},
        {"emails": []},
        {"emails": None},
        {"emails": [None]},
        {"emails": [{"value": None}]},
        {"name": {}},
        {"name": {"givenName": None}},
        {ENTERPRISE: None},
        {ENTERPRISE: {}},
        {ENTERPRISE: {"employeeNumber": None}},
    ],
)
def test_unassigned_values_are_left_out(sent):
    assert parse_resource(user_type(), user(**sent)) == stored_user()


def test_null_elements_of_a_list_are_dropped_and_the_rest_kept():
    sent = [None, {"value": "b@example.com"}, {"value": None}]

    document = parse_resource(user_type(), user(emails=sent))

    assert document["emails"] == [{"value": "b@example.com"}]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ({"favouriteColour": "teal"}, {}),
        (
            {"name": {"givenName": "Babs", "petName": "B"}},
            {"name": {"givenName": "Babs"}},
        ),
        (
            {"emails": [{"value": "b@example.com", "verified": True}]},
            {"emails": [{"value": "b@example.com"}]},
        ),
        (
            {ENTERPRISE: {"division": "R", "shoeSize": 39}},
            {ENTERPRISE: {"division": "R"}},
        ),
        ({ENTERPRISE: {"shoeSize": 39}}, {}),
    ],
)
def test_unknown_attributes_are_dropped(sent, stored):
    document = parse_resource(user_type(), user(**sent))

    assert {k: v for k, v in document.items() if k != "schemas"} == {
        "userName": "bjensen",
        **stored,
    }


# Values of readOnly attributes SHALL be ignored in requests (RFC 7643 §2.2).
@pytest.mark.parametrize(
    ("resource_type", "body", "stored"),
    [
        (user_type(), user(id="42"), stored_user()),
        (user_type(), user(meta={"created": "2020-01-01T00:00:00Z"}), stored_user()),
        (user_type(), user(groups=[{"value": "7", "display": "x"}]), stored_user()),
        (
            user_type(),
            user(**{ENTERPRISE: {"manager": {"value": "9", "displayName": "Boss"}}}),
            {
                "userName": "bjensen",
                ENTERPRISE: {"manager": {"value": "9"}},
                "schemas": [USER_SCHEMA, ENTERPRISE],
            },
        ),
        (
            group_type(),
            {
                "schemas": [GROUP_SCHEMA],
                "displayName": "team",
                "members": [{"value": "9", "display": "Babs"}],
            },
            {
                "displayName": "team",
                "members": [{"value": "9"}],
                "schemas": [GROUP_SCHEMA],
            },
        ),
    ],
)
def test_read_only_values_are_ignored(resource_type, body, stored):
    assert parse_resource(resource_type, body) == stored


def test_write_only_password_is_kept_for_the_server_to_hash():
    document = parse_resource(user_type(), user(password="t1meMa$heen"))

    assert document["password"] == "t1meMa$heen"


@pytest.mark.parametrize(
    "schemas",
    [
        [USER_SCHEMA, ENTERPRISE],
        # The extension's data says which schema it is; its URN may be missing.
        [USER_SCHEMA],
    ],
)
def test_extension_attributes_are_stored_under_their_urn(schemas):
    body = {"schemas": schemas, "userName": "bjensen", ENTERPRISE: {"division": "R"}}

    document = parse_resource(user_type(), body)

    assert document == {
        "userName": "bjensen",
        ENTERPRISE: {"division": "R"},
        "schemas": [USER_SCHEMA, ENTERPRISE],
    }


def test_extension_urn_is_matched_in_any_case():
    body = user(**{ENTERPRISE.lower(): {"DIVISION": "R"}})

    document = parse_resource(user_type(), body)

    assert document[ENTERPRISE] == {"division": "R"}


def test_extension_named_in_schemas_without_data_is_not_listed():
    body = {"schemas": [USER_SCHEMA, ENTERPRISE], "userName": "bjensen"}

    assert parse_resource(user_type(), body)["schemas"] == [USER_SCHEMA]


# Entra ID adds a URN of its own to groups.
@pytest.mark.parametrize(
    "schemas",
    [
        [GROUP_SCHEMA, "urn:ietf:params:scim:schemas:extension:Entra:2.0:Group"],
        ["urn:example:unheard:of", GROUP_SCHEMA],
        # A lone URN where a list belongs has one meaning.
        GROUP_SCHEMA,
    ],
)
def test_unknown_schema_urns_are_tolerated_and_not_stored(schemas):
    body = {"schemas": schemas, "displayName": "team"}

    document = parse_resource(group_type(), body)

    assert document == {"displayName": "team", "schemas": [GROUP_SCHEMA]}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (user(schemas=7), '"schemas" must be a list of schema URNs'),
        (user(schemas=[USER_SCHEMA, 7]), '"schemas" must be a list of schema URNs'),
        (user(schemas=[]), f'"schemas" must include {USER_SCHEMA}'),
        (user(schemas=[GROUP_SCHEMA]), f'"schemas" must include {USER_SCHEMA}'),
    ],
)
def test_schemas_when_given_must_name_the_core_schema(body, detail):
    with pytest.raises(InvalidValue) as excinfo:
        parse_resource(user_type(), body)

    assert excinfo.value.detail == detail


def test_a_body_without_schemas_is_of_the_endpoints_type():
    document = parse_resource(user_type(), {"userName": "bjensen"})

    assert document == {"userName": "bjensen", "schemas": [USER_SCHEMA]}


@pytest.mark.parametrize("body", [[], "bjensen", None, 42])
def test_a_body_that_is_not_an_object_is_invalid_syntax(body):
    with pytest.raises(InvalidSyntax):
        parse_resource(user_type(), body)


# check_immutable: an immutable value may be set once, by a create or by a
# replace while it has none, and must match after that (RFC 7643 §2.2,
# RFC 7644 §3.5.1).

STORED = {"serial": "W-1", "label": "old", "aliases": ["a"]}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (STORED, {**STORED, "label": "new"}),
        ({"label": "old"}, {"serial": "W-1"}),
        ({}, {WIDGET_EXTENSION: {"batch": "B1"}}),
        ({WIDGET_EXTENSION: {"batch": "B1"}}, {WIDGET_EXTENSION: {"batch": "B1"}}),
        # Elements of a multi-valued attribute are replaced whole.
        (STORED, {**STORED, "aliases": ["b", "c"]}),
    ],
)
def test_replacements_that_keep_immutable_values_pass(old, new):
    check_immutable(WIDGET, old, new)


@pytest.mark.parametrize(
    ("old", "new", "detail"),
    [
        (STORED, {**STORED, "serial": "W-2"}, "serial is immutable and cannot change"),
        (STORED, {"label": "old"}, "serial is immutable and cannot change"),
        (
            {WIDGET_EXTENSION: {"batch": "B1"}},
            {WIDGET_EXTENSION: {"batch": "B2"}},
            "batch is immutable and cannot change",
        ),
        (
            {WIDGET_EXTENSION: {"batch": "B1"}},
            {},
            "batch is immutable and cannot change",
        ),
    ],
)
def test_replacements_that_change_an_immutable_value_are_mutability_errors(
    old, new, detail
):
    with pytest.raises(Mutability) as excinfo:
        check_immutable(WIDGET, old, new)

    assert excinfo.value.scim_type == "mutability"
    assert excinfo.value.detail == detail
