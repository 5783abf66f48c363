"""Choosing the attributes of a response (RFC 7644 §3.4.2.5, §3.9).

Each attribute's ``returned`` characteristic (RFC 7643 §2.4) decides first:
"always" attributes are sent whatever was asked, "never" ones are never
sent, "request" ones only when named in ``attributes``, and "default" ones
unless ``attributes`` leaves them out or ``excludedAttributes`` names them.
"""

from __future__ import annotations

from typing import Any

import pytest

from scim_server.projection import Projection
from scim_server.schema import ENTERPRISE_USER_SCHEMA as ENTERPRISE
from scim_server.schema import USER_SCHEMA, user_type
from tests.scim_server.widgets import WIDGET, WIDGET_EXTENSION, WIDGET_SCHEMA

BJENSEN: dict[str, Any] = {
    "schemas": [USER_SCHEMA, ENTERPRISE],
    "id": "2819",
    "externalId": "bjensen-ext",
    "userName": "bjensen",
    "password": "t1meMa$heen",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "emails": [
        {"value": "bjensen@example.com", "type": "work"},
        {"value": "babs@example.org", "type": "home"},
    ],
    "groups": [{"value": "7", "display": "Tour Guides"}],
    ENTERPRISE: {"employeeNumber": "701984", "manager": {"value": "26118"}},
    "meta": {"resourceType": "User", "version": 'W/"3"'},
}

WIDGET_DOCUMENT: dict[str, Any] = {
    "schemas": [WIDGET_SCHEMA, WIDGET_EXTENSION],
    "id": "5",
    "serial": "W-1",
    "label": "gear",
    "pin": "1234",
    "audit": "checked",
    "parts": [{"value": "cog", "checksum": "c1", "key": "k1"}],
    WIDGET_EXTENSION: {"line": "L2", "notes": "dusty", "plant": "Oslo"},
}


def user_view(
    attributes: list[str] | None = None, excluded: list[str] | None = None
) -> dict[str, Any]:
    return Projection.parse(user_type(), attributes, excluded).apply(BJENSEN)


def widget_view(
    attributes: list[str] | None = None, excluded: list[str] | None = None
) -> dict[str, Any]:
    return Projection.parse(WIDGET, attributes, excluded).apply(WIDGET_DOCUMENT)


def test_a_plain_read_returns_every_default_attribute_and_never_the_password():
    expected = {key: value for key, value in BJENSEN.items() if key != "password"}

    assert user_view() == expected


@pytest.mark.parametrize(
    ("attributes", "returned"),
    [
        (["userName"], {"userName": "bjensen"}),
        # Names and URNs match in any case (RFC 7643 §2.1).
        (["USERNAME"], {"userName": "bjensen"}),
        ([f"{USER_SCHEMA}:userName"], {"userName": "bjensen"}),
        (["name.givenName"], {"name": {"givenName": "Barbara"}}),
        (["NAME.GIVENNAME"], {"name": {"givenName": "Barbara"}}),
        (
            ["emails.value"],
            {
                "emails": [
                    {"value": "bjensen@example.com"},
                    {"value": "babs@example.org"},
                ]
            },
        ),
        # The whole attribute wins over a part of it, in either order.
        (["name.givenName", "name"], {"name": BJENSEN["name"]}),
        (["name", "name.givenName"], {"name": BJENSEN["name"]}),
        (["meta.version"], {"meta": {"version": 'W/"3"'}}),
        ([f"{ENTERPRISE}:employeeNumber"], {ENTERPRISE: {"employeeNumber": "701984"}}),
        ([ENTERPRISE.upper()], {ENTERPRISE: BJENSEN[ENTERPRISE]}),
        # Names that match no attribute select nothing.
        (["nickName", "noSuchThing", "name.noSuchPart"], {}),
        (["password"], {}),
    ],
)
def test_attributes_returns_what_it_names_with_schemas_and_id(attributes, returned):
    # schemas names the extension only when one of its attributes is sent.
    schemas = [
        urn for urn in BJENSEN["schemas"] if urn == USER_SCHEMA or urn in returned
    ]
    always = {"schemas": schemas, "id": "2819"}

    assert user_view(attributes) == always | returned


@pytest.mark.parametrize(
    ("excluded", "removed"),
    [
        (["emails"], {"emails"}),
        (["EMAILS", "groups", "meta"], {"emails", "groups", "meta"}),
        # "always" attributes cannot be excluded (RFC 7644 §3.9).
        (["id", "schemas"], set()),
        ([ENTERPRISE], {ENTERPRISE}),
        (["noSuchThing"], set()),
    ],
)
def test_excluded_attributes_drops_what_it_names(excluded, removed):
    expected = {
        key: value
        for key, value in BJENSEN.items()
        if key not in removed and key != "password"
    }
    if ENTERPRISE in removed:
        expected["schemas"] = [USER_SCHEMA]

    assert user_view(excluded=excluded) == expected


@pytest.mark.parametrize(
    ("excluded", "key", "kept"),
    [
        (["name.givenName"], "name", {"familyName": "Jensen"}),
        (
            ["emails.type"],
            "emails",
            [{"value": "bjensen@example.com"}, {"value": "babs@example.org"}],
        ),
        ([f"{ENTERPRISE}:manager"], ENTERPRISE, {"employeeNumber": "701984"}),
    ],
)
def test_excluding_a_sub_attribute_keeps_the_rest_of_its_parent(excluded, key, kept):
    assert user_view(excluded=excluded)[key] == kept


def test_attributes_wins_when_both_parameters_are_given():
    assert user_view(["userName"], ["userName"]) == {
        "schemas": [USER_SCHEMA],
        "id": "2819",
        "userName": "bjensen",
    }


@pytest.mark.parametrize(
    ("attributes", "excluded", "expected"),
    [
        (None, None, True),
        (["userName"], None, False),
        (["groups.display"], None, True),
        (None, ["groups"], False),
        (None, ["groups.display"], True),
        (["userName"], ["groups"], False),
    ],
)
def test_includes_says_whether_an_attribute_can_be_in_the_output(
    attributes, excluded, expected
):
    projection = Projection.parse(user_type(), attributes, excluded)

    assert projection.includes("groups") is expected
    assert projection.includes("id") is True
    assert projection.includes("password") is False


def test_includes_of_an_unknown_attribute_raises():
    with pytest.raises(KeyError):
        Projection.parse(user_type(), None, None).includes("noSuchThing")


# The Widget type has an attribute of each kind of "returned", in its core
# schema and in its extension.


@pytest.mark.parametrize(
    ("attributes", "excluded", "expected"),
    [
        (
            None,
            None,
            {"serial", "label", "parts", WIDGET_EXTENSION},
        ),
        (["label"], None, {"label", WIDGET_EXTENSION}),
        (["audit"], None, {"audit", WIDGET_EXTENSION}),
        (None, ["audit", "label"], {"serial", "parts", WIDGET_EXTENSION}),
        (["pin", "serial"], None, {"serial", WIDGET_EXTENSION}),
    ],
)
def test_returned_decides_which_top_level_attributes_are_sent(
    attributes, excluded, expected
):
    view = widget_view(attributes, excluded)

    assert set(view) - {"schemas", "id"} == expected


@pytest.mark.parametrize(
    ("attributes", "excluded", "expected"),
    [
        (None, None, {"line": "L2", "plant": "Oslo"}),
        ([f"{WIDGET_EXTENSION}:notes"], None, {"notes": "dusty", "plant": "Oslo"}),
        (["label"], None, {"plant": "Oslo"}),
        (None, [WIDGET_EXTENSION], {"plant": "Oslo"}),
        (None, [f"{WIDGET_EXTENSION}:plant"], {"line": "L2", "plant": "Oslo"}),
    ],
)
def test_returned_decides_which_extension_attributes_are_sent(
    attributes, excluded, expected
):
    assert widget_view(attributes, excluded)[WIDGET_EXTENSION] == expected


def test_a_sub_attribute_returned_on_request_is_sent_when_named():
    assert widget_view(["parts.checksum"])["parts"] == [{"checksum": "c1"}]


@pytest.mark.parametrize(
    ("attributes", "excluded"),
    [(None, None), (["parts"], None), (None, ["label"])],
)
def test_hidden_sub_attributes_are_not_sent_with_their_parent(attributes, excluded):
    assert widget_view(attributes, excluded)["parts"] == [{"value": "cog"}]


@pytest.mark.parametrize(
    ("attributes", "excluded"),
    [(["userName"], None), (None, [ENTERPRISE])],
)
def test_schemas_lists_only_the_schemas_whose_attributes_are_sent(attributes, excluded):
    assert user_view(attributes, excluded)["schemas"] == [USER_SCHEMA]
