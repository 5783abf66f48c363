"""Replacing a resource with PUT: RFC 7644 §3.5.1."""

from __future__ import annotations

import pytest

from conformance_tests.provisioner import group_body, user_body
from conformance_tests.scim_http import (
    GROUP_SCHEMA,
    USER_SCHEMA,
    assert_scim_error,
    parse_date_time,
)


@pytest.fixture
def grace(provisioner):
    return provisioner.user("grace", displayName="Grace", title="Rear Admiral")


def test_put_replaces_the_values_it_sends(client, provisioner, grace):
    """RFC 7644 §3.5.1: values sent in a PUT SHALL replace the existing ones;
    a successful PUT answers 200 with the entire resource."""
    body = user_body(grace["userName"], displayName="Grace Hopper", title="Admiral")

    response = client.put(f"/Users/{grace['id']}", body)

    assert response.status == 200, str(response)
    replaced = response.json()
    assert replaced["id"] == grace["id"]
    assert replaced["displayName"] == "Grace Hopper"
    assert replaced["title"] == "Admiral"
    fetched = client.get(f"/Users/{grace['id']}").json()
    assert fetched["displayName"] == "Grace Hopper"
    assert fetched["title"] == "Admiral"


def test_put_keeps_created_and_location(client, grace):
    """RFC 7643 §3.1: meta.created and meta.location belong to the resource,
    not to a version of it; lastModified is never before created."""
    body = user_body(grace["userName"], displayName="Amazing Grace")

    replaced = client.put(f"/Users/{grace['id']}", body).json()

    assert replaced["meta"]["created"] == grace["meta"]["created"]
    assert replaced["meta"]["location"] == grace["meta"]["location"]
    modified = parse_date_time(replaced["meta"]["lastModified"])
    assert modified >= parse_date_time(grace["meta"]["created"])


def test_read_only_values_are_ignored(client, provisioner, grace):
    """RFC 7644 §3.5.1: readOnly values sent in a PUT SHALL be ignored, such
    as meta (RFC 7643 §3.1) and a User's groups, which change only through
    the Group (RFC 7643 §4.1.2)."""
    team = provisioner.group("team")
    body = user_body(
        grace["userName"],
        id=grace["id"],
        meta={"created": "2001-01-01T00:00:00Z", "resourceType": "Group"},
        groups=[{"value": team["id"]}],
    )

    response = client.put(f"/Users/{grace['id']}", body)

    assert response.status == 200, str(response)
    replaced = response.json()
    assert replaced["meta"]["created"] == grace["meta"]["created"]
    assert replaced["meta"]["resourceType"] == "User"
    members = client.get(f"/Groups/{team['id']}").json().get("members", [])
    assert grace["id"] not in {member["value"] for member in members}


def test_an_id_in_the_body_cannot_move_the_resource(client, provisioner, grace):
    """RFC 7644 §3.5.1: id is readOnly (RFC 7643 §3.1), so an id in a PUT body
    never re-keys a resource: it is ignored (200) or the contradiction is
    refused (400), and both resources stay as they were."""
    other = provisioner.user("other")
    body = user_body(grace["userName"], id=other["id"], title="Moved?")

    response = client.put(f"/Users/{grace['id']}", body)

    if response.status == 200:
        assert response.json()["id"] == grace["id"]
    else:
        assert_scim_error(response, 400)
    assert client.get(f"/Users/{grace['id']}").json()["id"] == grace["id"]
    untouched = client.get(f"/Users/{other['id']}").json()
    assert untouched["userName"] == other["userName"]
    assert "title" not in untouched


@pytest.mark.beyond_rfc
def test_an_id_that_contradicts_the_url_is_refused(client, provisioner, grace):
    """This server refuses, rather than ignores, a PUT body whose id names
    another resource than the URL does: 400 invalidValue (RFC 7644 §3.12),
    so that a client's mix-up is reported instead of applied to the wrong
    user."""
    other = provisioner.user("other")
    body = user_body(grace["userName"], id=other["id"], title="Moved?")

    response = client.put(f"/Users/{grace['id']}", body)

    assert_scim_error(response, 400, "invalidValue")
    assert client.get(f"/Users/{grace['id']}").json()["title"] == "Rear Admiral"


def test_omitted_attributes_lose_their_values(client, provisioner):
    """RFC 7644 §3.5.1: PUT replaces the whole resource; readWrite attributes
    the body omits MAY be cleared or given a default value, so the values
    they had do not survive."""
    email = "grace@navy.example"
    grace = provisioner.user(
        "grace", title="Rear Admiral", nickName="Amazing", emails=[{"value": email}]
    )

    response = client.put(f"/Users/{grace['id']}", user_body(grace["userName"]))

    assert response.status == 200, str(response)
    for replaced in (response.json(), client.get(f"/Users/{grace['id']}").json()):
        assert replaced.get("title") != "Rear Admiral"
        assert replaced.get("nickName") != "Amazing"
        assert email not in str(replaced.get("emails"))


def test_a_password_is_accepted_and_never_returned(client, grace):
    """RFC 7643 §4.1.1: password is writeOnly, so a PUT may set it, and it
    is returned never (RFC 7643 §7), neither in the PUT's answer nor later."""
    body = user_body(grace["userName"], password="Wr1te-0nly!")

    response = client.put(f"/Users/{grace['id']}", body)

    assert response.status == 200, str(response)
    for answer in (response, client.get(f"/Users/{grace['id']}")):
        assert b"password" not in answer.body
        assert b"Wr1te-0nly!" not in answer.body


def test_taking_another_users_name_is_409_uniqueness(client, provisioner, grace):
    """RFC 7644 §3.12: a PUT that would repeat a unique value in use, such as
    userName (RFC 7643 §4.1.1), is 409 with scimType uniqueness."""
    other = provisioner.user("other")

    response = client.put(f"/Users/{grace['id']}", user_body(other["userName"]))

    assert_scim_error(response, 409, "uniqueness")


def test_put_cannot_create(client, provisioner):
    """RFC 7644 §3.2: PUT MUST NOT be used to create resources, so a PUT to
    an id that does not exist is 404, and afterwards the id still does not
    exist."""
    gone = provisioner.gone(provisioner.user("gone"))

    response = client.put(f"/Users/{gone}", user_body(provisioner.name("gone")))

    assert_scim_error(response, 404)
    assert_scim_error(client.get(f"/Users/{gone}"), 404)


def test_changing_an_immutable_value_is_400_mutability(client, provisioner, schemas):
    """RFC 7644 §3.5.1: an immutable attribute that has a value keeps it; a PUT
    with another value SHOULD be 400 with scimType mutability, and one with
    the same value succeeds."""
    found = _singular_immutable_string(schemas)
    if found is None:
        pytest.skip("no core schema declares a singular immutable string attribute")
    endpoint, make_body, attribute = found
    created = provisioner.post(
        endpoint, make_body(provisioner.name("fixed"), **{attribute: "first"})
    )
    assert created.status == 201, str(created)
    location = created.json()["meta"]["location"]

    changed = client.put(
        location, make_body(provisioner.name("fixed"), **{attribute: "second"})
    )
    same = client.put(
        location, make_body(provisioner.name("fixed"), **{attribute: "first"})
    )

    assert_scim_error(changed, 400, "mutability")
    assert same.status == 200, str(same)


def _singular_immutable_string(schemas):
    """Where to test immutability: (endpoint, body maker, attribute) or None."""
    kinds = [
        (USER_SCHEMA, "/Users", user_body),
        (GROUP_SCHEMA, "/Groups", group_body),
    ]
    for schema_id, endpoint, make_body in kinds:
        for attribute in schemas.get(schema_id, {}).get("attributes", []):
            if (
                attribute.get("mutability") == "immutable"
                and attribute.get("type") == "string"
                and not attribute.get("multiValued", False)
            ):
                return endpoint, make_body, attribute["name"]
    return None
