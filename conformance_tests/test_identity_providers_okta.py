"""Replays of the requests Okta documents that it sends.

Each test sends what Okta's SCIM 2.0 protocol reference ("Okta and SCIM
Version 2.0") shows it sending, in that shape and order, with this run's
names and ids in place of the documentation's, and checks what the
reference says Okta needs back. Okta never deletes users: it deactivates
them, so no test here deletes one (the suite still cleans up after itself).
"""

from __future__ import annotations

import pytest

from conformance_tests.scim_http import (
    GROUP_SCHEMA,
    USER_SCHEMA,
    assert_list_response,
    assert_scim_error,
    patch_op,
)


def find_users(client, user_name):
    """Okta's check for an existing user: userName eq, first page of 100."""
    params = {"filter": f'userName eq "{user_name}"', "startIndex": 1, "count": 100}
    return assert_list_response(client.get("/Users", params))


def send_patch(client, location, *operations):
    """PATCH as Okta does, which takes the updated resource (200) or no body
    (204), as RFC 7644 §3.5.2 allows."""
    response = client.patch(location, patch_op(*operations))
    assert response.status in (200, 204), str(response)


def okta_user(user_name):
    """The body of Okta's "Create the User" request."""
    return {
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00u1replay2okta3id4",
        "groups": [],
        "password": "Okta-pa55word",
        "active": True,
    }


@pytest.fixture
def okta_test_user(provisioner):
    name = provisioner.name("test.user@okta.example")
    response = provisioner.post("/Users", okta_user(name))
    assert response.status == 201, str(response)
    return response.json()


@pytest.mark.requires_feature("filter")
def test_okta_looks_a_user_up_then_creates_it(client, provisioner):
    """Okta looks a user up by userName with startIndex=1&count=100, creates
    it with a password and an empty groups list when nothing is found, and
    needs the created user back, which a GET then returns too.

    "Determine if the User already exists", "Create the User" and "Retrieve
    a specific User" of
    https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20
    """
    user_name = provisioner.name("test.user@okta.example")
    empty = find_users(client, user_name)
    assert (empty["totalResults"], empty.get("startIndex", 1)) == (0, 1)

    created = provisioner.post("/Users", okta_user(user_name))

    assert created.status == 201, str(created)
    assert b"Okta-pa55word" not in created.body
    user = created.json()
    assert (user["userName"], user["active"]) == (user_name, True)
    [found] = find_users(client, user_name)["Resources"]
    assert found["id"] == user["id"]
    assert client.get(f"/Users/{user['id']}").json()["userName"] == user_name


def test_okta_creating_an_existing_user_is_409(provisioner, okta_test_user):
    """Okta stops provisioning a user that already exists when the server
    answers 409 with a SCIM Error (RFC 7644 §3.3: scimType uniqueness).

    "Create the User" of
    https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20
    """
    response = provisioner.post("/Users", okta_user(okta_test_user["userName"]))

    assert_scim_error(response, 409, "uniqueness")


def test_okta_updates_a_user_with_put(client, okta_test_user):
    """Okta reads the user, changes what changed in Okta, and PUTs the whole
    user back, id, meta and groups included; the answer is the updated user.

    "Update a specific User (PUT)" of
    https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20
    """
    location = f"/Users/{okta_test_user['id']}"
    user = client.get(location).json()
    user["name"]["middleName"] = "Excited"
    user["groups"] = []

    response = client.put(location, user)

    assert response.status == 200, str(response)
    for updated in (response.json(), client.get(location).json()):
        assert updated["name"]["middleName"] == "Excited"
        assert updated["active"] is True


@pytest.mark.parametrize(
    "method",
    [
        pytest.param(
            "PATCH",
            id="integration-network",
            marks=pytest.mark.requires_feature("patch"),
        ),
        pytest.param("PUT", id="AIW"),
    ],
)
def test_okta_deactivates_instead_of_deleting(client, okta_test_user, method):
    """Okta never deletes a user: it deactivates it, with a PATCH replace of
    {"active": false} without a path (integration-network apps) or with a
    PUT of the user with active false (apps made with the App Integration
    Wizard). The user remains, inactive.

    "Update a specific User (PATCH)" and "Delete Users" of
    https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20
    """
    location = f"/Users/{okta_test_user['id']}"

    if method == "PATCH":
        send_patch(client, location, {"op": "replace", "value": {"active": False}})
    else:
        deactivated = {**client.get(location).json(), "active": False}
        assert client.put(location, deactivated).status == 200

    user = client.get(location).json()
    assert user["active"] is False
    assert user["userName"] == okta_test_user["userName"]


@pytest.fixture
def pushed_group(provisioner):
    """A group as Okta's Group Push creates it, in "Create Groups"."""
    body = {
        "schemas": [GROUP_SCHEMA],
        "displayName": provisioner.name("Test SCIMv2"),
        "members": [],
    }
    response = provisioner.post("/Groups", body)
    assert response.status == 201, str(response)
    return response.json()


def test_okta_pushes_a_group(client, pushed_group):
    """Okta's Group Push creates the group with an empty members list and
    reads it back by id.

    "Create Groups" and "Retrieve specific Groups" of
    https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20
    """
    response = client.get(f"/Groups/{pushed_group['id']}")

    assert response.status == 200, str(response)
    assert response.json()["displayName"] == pushed_group["displayName"]
    assert not response.json().get("members")


@pytest.mark.requires_feature("patch")
def test_okta_renames_a_group(client, provisioner, pushed_group):
    """Okta renames a pushed group with a replace without a path whose value
    repeats the group's id beside the new displayName.

    "Update a specific Group name" of
    https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20
    """
    location = f"/Groups/{pushed_group['id']}"
    renamed = provisioner.name("Test SCIMv20")
    value = {"id": pushed_group["id"], "displayName": renamed}

    send_patch(client, location, {"op": "replace", "value": value})

    assert client.get(location).json()["displayName"] == renamed


@pytest.mark.requires_feature("patch")
def test_okta_swaps_members_in_one_patch(client, provisioner, pushed_group):
    """Okta adds a member with its display, and later removes one member with
    members[value eq "..."] and adds another in the same PATCH.

    "Update specific Group membership" of
    https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20
    """
    leaving, joining = provisioner.user("leaving"), provisioner.user("joining")
    location = f"/Groups/{pushed_group['id']}"
    send_patch(
        client,
        location,
        {
            "op": "add",
            "path": "members",
            "value": [{"value": leaving["id"], "display": leaving["userName"]}],
        },
    )

    send_patch(
        client,
        location,
        {"op": "remove", "path": f'members[value eq "{leaving["id"]}"]'},
        {
            "op": "add",
            "path": "members",
            "value": [{"value": joining["id"], "display": joining["userName"]}],
        },
    )

    members = client.get(location).json().get("members", [])
    assert [member["value"] for member in members] == [joining["id"]]


@pytest.mark.requires_feature("patch")
def test_okta_pushes_the_whole_membership(client, provisioner, pushed_group):
    """Okta can send a group's whole membership as a replace of members.

    "Update specific Group membership" of
    https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20
    """
    users = [provisioner.user("first"), provisioner.user("second")]
    location = f"/Groups/{pushed_group['id']}"
    everyone = [{"value": user["id"], "display": user["userName"]} for user in users]

    send_patch(
        client, location, {"op": "replace", "path": "members", "value": everyone}
    )

    members = client.get(location).json().get("members", [])
    assert sorted(member["value"] for member in members) == sorted(
        user["id"] for user in users
    )


def test_okta_deletes_a_pushed_group(client, pushed_group):
    """Unlinking a pushed group with "Delete the group in the target app"
    sends a DELETE, answered 204 with no body.

    "Delete a specific Group" of
    https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20
    """
    location = f"/Groups/{pushed_group['id']}"

    response = client.delete(location)

    assert response.status == 204, str(response)
    assert response.body == b""
    assert_scim_error(client.get(location), 404)
