"""Retrieving a known resource, and choosing its attributes: RFC 7644
§3.4.1 and §3.4.2.5."""

from __future__ import annotations

import pytest

from conformance_tests.provisioner import group_body, user_body
from conformance_tests.scim_http import (
    ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA,
    USER_SCHEMA,
    assert_list_response,
    assert_scim_error,
)


@pytest.fixture
def ada(provisioner):
    return provisioner.user(
        "ada",
        displayName="Ada Lovelace",
        title="Analyst",
        name={"givenName": "Ada", "familyName": "Lovelace"},
        emails=[{"value": "ada@example.org", "type": "work"}],
    )


def test_get_returns_the_user(client, ada):
    """RFC 7644 §3.4.1: a GET of a resource's URI answers 200 with the
    resource."""
    response = client.get(f"/Users/{ada['id']}")

    assert response.status == 200, str(response)
    user = response.json()
    assert user["id"] == ada["id"]
    assert user["userName"] == ada["userName"]
    assert USER_SCHEMA in user["schemas"]
    assert user["meta"]["resourceType"] == "User"
    assert user["meta"]["location"] == ada["meta"]["location"]


def test_get_returns_the_group(client, provisioner, ada):
    """RFC 7644 §3.4.1: a GET of a resource's URI answers 200 with the
    resource."""
    group = provisioner.group("readers", members=[ada])

    response = client.get(f"/Groups/{group['id']}")

    assert response.status == 200, str(response)
    fetched = response.json()
    assert fetched["id"] == group["id"]
    assert fetched["displayName"] == group["displayName"]
    assert GROUP_SCHEMA in fetched["schemas"]
    assert fetched["meta"]["resourceType"] == "Group"


@pytest.mark.parametrize(
    ("endpoint", "make_body"), [("/Users", user_body), ("/Groups", group_body)]
)
def test_unknown_id_is_404(client, provisioner, endpoint, make_body):
    """RFC 7644 §3.12: a resource that does not exist is 404, as a SCIM
    Error."""
    created = provisioner.post(endpoint, make_body(provisioner.name("gone")))
    gone = provisioner.gone(created.json())

    for unknown in (gone, "no-such-id"):
        assert_scim_error(client.get(f"{endpoint}/{unknown}"), 404)


def test_attributes_returns_only_those_named(client, ada):
    """RFC 7644 §3.4.2.5: attributes overrides the default set; RFC 7643
    §7: id is returned always."""
    response = client.get(f"/Users/{ada['id']}", {"attributes": "displayName"})

    assert response.status == 200, str(response)
    user = response.json()
    assert user["id"] == ada["id"]
    assert user["displayName"] == "Ada Lovelace"
    assert not {"userName", "title", "name", "emails"} & set(user)


def test_attributes_names_sub_attributes(client, ada):
    """RFC 7644 §3.4.2.5: attributes are named in standard attribute
    notation (§3.10), so a sub-attribute can be asked for alone."""
    response = client.get(f"/Users/{ada['id']}", {"attributes": "name.familyName"})

    assert response.status == 200, str(response)
    assert response.json()["name"] == {"familyName": "Lovelace"}


def test_attribute_names_are_case_insensitive(client, ada):
    """RFC 7643 §2.1: attribute names are case-insensitive, in query
    parameters too."""
    response = client.get(f"/Users/{ada['id']}", {"attributes": "DISPLAYNAME"})

    assert response.status == 200, str(response)
    assert response.json()["displayName"] == "Ada Lovelace"
    assert "title" not in response.json()


@pytest.mark.usefixtures("enterprise_user")
def test_attributes_names_extension_attributes_by_urn(client, provisioner):
    """RFC 7644 §3.10: an extension's attribute is named by its schema URN,
    a colon, and its name."""
    extension = {"employeeNumber": "7", "costCenter": "C-12"}
    user = provisioner.user("clerk", **{ENTERPRISE_USER_SCHEMA: extension})

    response = client.get(
        f"/Users/{user['id']}",
        {"attributes": f"{ENTERPRISE_USER_SCHEMA}:employeeNumber"},
    )

    assert response.status == 200, str(response)
    assert response.json()[ENTERPRISE_USER_SCHEMA] == {"employeeNumber": "7"}
    assert "userName" not in response.json()


def test_excluded_attributes_removes_them(client, ada):
    """RFC 7644 §3.4.2.5: excludedAttributes removes attributes from the
    default set."""
    response = client.get(f"/Users/{ada['id']}", {"excludedAttributes": "emails,title"})

    assert response.status == 200, str(response)
    user = response.json()
    assert not {"emails", "title"} & set(user)
    assert user["userName"] == ada["userName"]
    assert user["displayName"] == "Ada Lovelace"


def test_excluded_attributes_cannot_remove_id(client, ada):
    """RFC 7644 §3.4.2.5: excludedAttributes SHALL have no effect on
    attributes returned always, such as id (RFC 7643 §3.1)."""
    response = client.get(f"/Users/{ada['id']}", {"excludedAttributes": "id"})

    assert response.status == 200, str(response)
    assert response.json()["id"] == ada["id"]


def test_attributes_apply_to_every_resource_of_a_list(client, provisioner):
    """RFC 7644 §3.4.2.5: attributes and excludedAttributes apply to list
    responses too, to each resource."""
    provisioner.user("one", title="First")
    provisioner.user("two", title="Second")

    response = client.get(
        "/Users", {"filter": provisioner.users_filter(), "attributes": "userName"}
    )

    page = assert_list_response(response)
    assert len(page["Resources"]) == 2
    for user in page["Resources"]:
        assert user["id"]
        assert user["userName"].startswith(provisioner.prefix)
        assert "title" not in user


def test_password_is_never_returned(client, provisioner):
    """RFC 7643 §4.1.1: neither the cleartext nor the hash of a password
    SHALL be returnable; its schema says returned "never" (RFC 7643 §7)."""
    body = user_body(provisioner.name("secretive"), password="t0p-Secret!")
    created = provisioner.post("/Users", body)
    assert created.status == 201, str(created)
    location = created.json()["meta"]["location"]

    answers = [
        created,
        client.get(location),
        client.get(location, {"attributes": "password"}),
        client.get("/Users", {"filter": provisioner.users_filter()}),
    ]

    for answer in answers:
        assert answer.status in (200, 201), str(answer)
        assert b"password" not in answer.body
        assert b"t0p-Secret!" not in answer.body
