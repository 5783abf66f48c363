"""Creating resources: RFC 7644 §3.3."""

from __future__ import annotations

import pytest

from conformance_tests.provisioner import group_body, user_body
from conformance_tests.scim_http import assert_scim_error

KINDS = [
    pytest.param("/Users", "User", user_body, id="User"),
    pytest.param("/Groups", "Group", group_body, id="Group"),
]


@pytest.mark.parametrize(("endpoint", "resource_type", "make_body"), KINDS)
def test_create_answers_201_with_the_resource_at_its_location(
    client, provisioner, endpoint, resource_type, make_body
):
    """RFC 7644 §3.3: a create SHALL answer 201 Created, with the new
    resource's URI in the Location header and in meta.location."""
    response = provisioner.post(endpoint, make_body(provisioner.name("new")))

    assert response.status == 201, str(response)
    created = response.json()
    assert isinstance(created["id"], str)
    assert created["id"]
    assert created["meta"]["resourceType"] == resource_type
    assert response.header("Location") == created["meta"]["location"]
    fetched = client.get(response.header("Location"))
    assert fetched.status == 200, str(fetched)
    assert fetched.json()["id"] == created["id"]


def test_response_holds_what_was_sent(provisioner):
    """RFC 7644 §3.3: the response body SHOULD be the service provider's
    representation of the new resource."""
    name = {"givenName": "Ada", "familyName": "Lovelace"}

    user = provisioner.user("ada", displayName="Ada Lovelace", name=name)

    assert user["userName"] == provisioner.name("ada")
    assert user["displayName"] == "Ada Lovelace"
    assert user["name"]["givenName"] == "Ada"
    assert user["name"]["familyName"] == "Lovelace"


def test_a_new_resource_was_last_modified_when_created(provisioner):
    """RFC 7643 §3.1: while a resource has never been modified, its
    meta.lastModified MUST equal meta.created."""
    user = provisioner.user("fresh")

    assert user["meta"]["lastModified"] == user["meta"]["created"]


@pytest.mark.requires_feature("etag")
@pytest.mark.parametrize(("endpoint", "resource_type", "make_body"), KINDS)
def test_etag_header_is_the_version(provisioner, endpoint, resource_type, make_body):
    """RFC 7644 §3.14: a server that versions resources MUST send the
    version in an ETag header, and SHOULD repeat it as meta.version."""
    response = provisioner.post(endpoint, make_body(provisioner.name("tagged")))

    assert response.status == 201, str(response)
    assert response.header("ETag")
    assert response.header("ETag") == response.json()["meta"]["version"]


def test_duplicate_user_name_is_409_uniqueness(provisioner):
    """RFC 7644 §3.3: a create that conflicts with an existing resource,
    such as a duplicate userName, MUST answer 409 with scimType
    uniqueness."""
    provisioner.user("taken")

    response = provisioner.post("/Users", user_body(provisioner.name("taken")))

    assert_scim_error(response, 409, "uniqueness")


def test_user_name_uniqueness_ignores_case(provisioner):
    """RFC 7643 §4.1.1: userName MUST be unique and is caseExact false, so
    two names that differ only in case are the same name (RFC 7643 §2.1)."""
    provisioner.user("casey")

    response = provisioner.post("/Users", user_body(provisioner.name("CASEY")))

    assert_scim_error(response, 409, "uniqueness")


def test_client_cannot_choose_id_or_meta(provisioner):
    """RFC 7643 §3.1: id is issued by the service provider and meta is
    readOnly; RFC 7643 §2.2: readOnly values sent by a client SHALL be
    ignored."""
    body = user_body(
        provisioner.name("self-named"),
        id="chosen-by-client",
        meta={"created": "2001-01-01T00:00:00Z", "resourceType": "Group"},
    )

    response = provisioner.post("/Users", body)

    assert response.status == 201, str(response)
    created = response.json()
    assert created["id"] != "chosen-by-client"
    assert created["meta"]["resourceType"] == "User"
    assert not created["meta"]["created"].startswith("2001-")


def test_missing_user_name_is_400_invalid_value(provisioner):
    """RFC 7643 §4.1.1: userName is REQUIRED; RFC 7644 §3.12: a missing
    required value is 400 with scimType invalidValue."""
    body = user_body("unused")
    del body["userName"]

    response = provisioner.post("/Users", body)

    assert_scim_error(response, 400, "invalidValue")


def test_value_of_the_wrong_type_is_400_invalid_value(provisioner):
    """RFC 7644 §3.12: a value that does not fit the attribute's type
    (RFC 7643 §2.3) is 400 with scimType invalidValue."""
    body = user_body(provisioner.name("typo"), active={"not": "a boolean"})

    response = provisioner.post("/Users", body)

    assert_scim_error(response, 400, "invalidValue")


def test_missing_group_display_name_is_400_invalid_value(provisioner):
    """RFC 7643 §4.2: a Group's displayName is REQUIRED; RFC 7644 §3.12:
    400 with scimType invalidValue."""
    body = group_body("unused")
    del body["displayName"]

    response = provisioner.post("/Groups", body)

    assert_scim_error(response, 400, "invalidValue")
