"""Replays of the requests Microsoft Entra ID documents that it sends.

Each test sends what Entra ID's documentation shows it sending, in that
shape and order, capitalised op names and string booleans included, with
this run's names and ids in place of the documentation's, and checks what
the documentation says Entra ID needs back. Each docstring names the
sections it replays and the page they are on: "Tutorial: Develop and plan
provisioning for a SCIM endpoint in Microsoft Entra ID", or "Known issues
and resolutions with SCIM 2.0 protocol compliance", which shows how the
requests differ with the aadOptscim062020 flag; both kinds are replayed.
"""

from __future__ import annotations

import uuid

import pytest

from conformance_tests.scim_http import (
    ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA,
    USER_SCHEMA,
    assert_list_response,
    assert_scim_error,
    patch_op,
)

# The schema URN Entra ID adds to the groups it creates.
ENTRA_GROUP_SCHEMA = (
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
)


def find_users(client, user_name):
    """Entra ID's lookup of a user by userName ("Get User by query")."""
    params = {"filter": f'userName eq "{user_name}"'}
    return assert_list_response(client.get("/Users", params))


def send_patch(client, location, *operations):
    """PATCH as Entra ID does, which needs no resource in the answer: 200
    and 204 are both success (RFC 7644 §3.5.2)."""
    response = client.patch(location, patch_op(*operations))
    assert response.status in (200, 204), str(response)


def entra_user(user_name):
    """The body of Entra ID's "Create User" request."""
    return {
        "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        "externalId": str(uuid.uuid4()),
        "userName": user_name,
        "active": True,
        "emails": [
            {"primary": True, "type": "work", "value": f"{user_name}@contoso.example"}
        ],
        "meta": {"resourceType": "User"},
        "name": {
            "formatted": "Barbara Jensen",
            "familyName": "Jensen",
            "givenName": "Barbara",
        },
        "roles": [],
    }


def entra_group(display_name):
    """The body of Entra ID's "Create Group" request: no members yet."""
    return {
        "schemas": [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA],
        "externalId": str(uuid.uuid4()),
        "displayName": display_name,
        "meta": {"resourceType": "Group"},
    }


@pytest.fixture
def barbara(provisioner):
    response = provisioner.post("/Users", entra_user(provisioner.name("bjensen")))
    assert response.status == 201, str(response)
    return response.json()


@pytest.mark.requires_feature("filter")
def test_entra_test_connection_finds_no_user(client):
    """Entra ID's Test Connection looks a user up by a random GUID and
    expects 200 with an empty ListResponse.

    "Test Connection", in "Getting started", of
    https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
    """
    page = find_users(client, str(uuid.uuid4()))

    assert page["totalResults"] == 0
    assert not page.get("Resources")


@pytest.mark.requires_feature("filter")
def test_entra_creates_a_user_it_cannot_find(client, provisioner):
    """Entra ID looks a user up by userName, creates it when nothing is
    found, reads it by id, and can find it by userName or by its work
    email from then on.

    "Get User by query - Zero results", "Create User", "Get User" and "Get
    User by query", in "User Operations", of
    https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
    """
    user_name = provisioner.name("bjensen")
    assert find_users(client, user_name)["totalResults"] == 0
    body = entra_user(user_name)

    created = provisioner.post("/Users", body)

    assert created.status == 201, str(created)
    fetched = client.get(f"/Users/{created.json()['id']}")
    assert fetched.status == 200, str(fetched)
    user = fetched.json()
    assert (user["userName"], user["externalId"]) == (user_name, body["externalId"])
    assert user["active"] is True
    email = body["emails"][0]["value"]
    by_email = f'emails[type eq "work"].value eq "{email}"'
    for page in (
        find_users(client, user_name),
        assert_list_response(client.get("/Users", {"filter": by_email})),
    ):
        assert [found["id"] for found in page["Resources"]] == [user["id"]]


@pytest.mark.requires_feature("patch")
def test_entra_updates_a_user(client, provisioner, barbara):
    """Entra ID updates a user's work email and family name in one PATCH of
    "Replace" operations, and its userName in another.

    "Update User [Multi-valued properties]" and "Update User [Single-valued
    properties]" of
    https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
    """
    location = barbara["meta"]["location"]
    renamed = provisioner.name("babs")
    multi_valued = [
        {
            "op": "Replace",
            "path": 'emails[type eq "work"].value',
            "value": "babs@contoso.example",
        },
        {"op": "Replace", "path": "name.familyName", "value": "Jensen-Smith"},
    ]
    single_valued = {"op": "Replace", "path": "userName", "value": renamed}

    send_patch(client, location, *multi_valued)
    send_patch(client, location, single_valued)

    user = client.get(location).json()
    assert [email["value"] for email in user["emails"]] == ["babs@contoso.example"]
    assert user["name"]["familyName"] == "Jensen-Smith"
    assert user["userName"] == renamed


@pytest.mark.requires_feature("filter")
@pytest.mark.requires_feature("patch")
@pytest.mark.parametrize(
    ("disable", "restore"),
    [
        pytest.param("False", "True", id="default"),
        pytest.param(False, True, id="aadOptscim062020"),
    ],
)
def test_entra_disables_and_restores_a_user(client, barbara, disable, restore):
    """Entra ID soft-deletes a user with a Replace of active, which it sends
    as the string "False" unless the aadOptscim062020 flag is set, and
    restores it the same way; the user must still be found while inactive.

    "Disable User", and the requirement on soft-deleting users, of
    https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
    and "Requests made to disable users" of
    https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility
    """
    location = barbara["meta"]["location"]

    send_patch(client, location, {"op": "Replace", "path": "active", "value": disable})

    assert client.get(location).json()["active"] is False
    [found] = find_users(client, barbara["userName"])["Resources"]
    assert found["active"] is False
    send_patch(client, location, {"op": "Replace", "path": "active", "value": restore})
    assert client.get(location).json()["active"] is True


@pytest.mark.requires_feature("patch")
@pytest.mark.parametrize("op", ["Add", "add"])
def test_entra_adds_a_single_valued_attribute(client, barbara, op):
    """Entra ID adds a single-valued string attribute with op "Add", or
    "add" when the aadOptscim062020 flag is set.

    "Requests made to add a single-value string attribute" of
    https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility
    """
    operation = {"op": op, "path": "nickName", "value": "Babs"}

    send_patch(client, barbara["meta"]["location"], operation)

    assert client.get(barbara["meta"]["location"]).json()["nickName"] == "Babs"


NUMBER = f"{ENTERPRISE_USER_SCHEMA}:employeeNumber"
# Without the flag, one Replace per attribute; with it, a filtered replace
# and a replace without a path whose keys are dotted or URN-qualified.
ENTRA_REPLACES = [
    pytest.param(
        [
            {"op": "Replace", "path": "displayName", "value": "Babs Jensen"},
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "babs@contoso.example",
            },
            {"op": "Replace", "path": "name.givenName", "value": "Babs"},
            {"op": "Replace", "path": "name.familyName", "value": "Jensen-Smith"},
            {"op": "Replace", "path": "externalId", "value": "babs"},
            {"op": "Replace", "path": NUMBER, "value": "701984"},
        ],
        id="default",
    ),
    pytest.param(
        [
            {
                "op": "replace",
                "path": 'emails[type eq "work"].value',
                "value": "babs@contoso.example",
            },
            {
                "op": "replace",
                "value": {
                    "displayName": "Babs Jensen",
                    "name.givenName": "Babs",
                    "name.familyName": "Jensen-Smith",
                    NUMBER: "701984",
                },
            },
        ],
        id="aadOptscim062020",
    ),
]


@pytest.mark.usefixtures("enterprise_user")
@pytest.mark.requires_feature("patch")
@pytest.mark.parametrize("operations", ENTRA_REPLACES)
def test_entra_replaces_several_attributes(client, barbara, operations):
    """Entra ID replaces several attributes, an Enterprise one among them,
    in a single PATCH.

    "Requests to replace multiple attributes" of
    https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility
    """
    location = barbara["meta"]["location"]

    send_patch(client, location, *operations)

    user = client.get(location).json()
    assert user["displayName"] == "Babs Jensen"
    assert [email["value"] for email in user["emails"]] == ["babs@contoso.example"]
    assert user["name"]["givenName"] == "Babs"
    assert user["name"]["familyName"] == "Jensen-Smith"
    assert user[ENTERPRISE_USER_SCHEMA]["employeeNumber"] == "701984"


@pytest.mark.usefixtures("enterprise_user")
@pytest.mark.requires_feature("patch")
def test_entra_sets_the_manager(client, provisioner, barbara):
    """Entra ID sets a user's manager with an "Add" to the path "manager",
    whose value lists one reference to the manager.

    "Example 5. Request from Microsoft Entra ID to an SCIM endpoint to
    update a user" of
    https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
    """
    boss = provisioner.user("boss")
    reference = {"$ref": boss["meta"]["location"], "value": boss["id"]}
    operation = {"op": "Add", "path": "manager", "value": [reference]}

    send_patch(client, barbara["meta"]["location"], operation)

    user = client.get(barbara["meta"]["location"]).json()
    assert user[ENTERPRISE_USER_SCHEMA]["manager"]["value"] == boss["id"]


@pytest.mark.requires_feature("filter")
def test_entra_creates_a_group_and_reads_it_without_members(client, provisioner):
    """Entra ID creates a group with its own extra schema URN and no members,
    then reads it, by id and by displayName, with excludedAttributes=members.

    "Create Group", "Get Group" and "Get Group by displayName", in "Group
    Operations", of
    https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
    """
    name = provisioner.name("entra-group")

    created = provisioner.post("/Groups", entra_group(name))

    assert created.status == 201, str(created)
    group_id = created.json()["id"]
    excluded = {"excludedAttributes": "members"}
    by_id = client.get(f"/Groups/{group_id}", excluded)
    assert by_id.status == 200, str(by_id)
    by_name = client.get("/Groups", {**excluded, "filter": f'displayName eq "{name}"'})
    [found] = assert_list_response(by_name)["Resources"]
    for group in (by_id.json(), found):
        assert (group["id"], group["displayName"]) == (group_id, name)
        assert "members" not in group


@pytest.mark.requires_feature("patch")
def test_entra_renames_a_group(client, provisioner):
    """Entra ID renames a group with a "Replace" of displayName.

    "Update Group [Non-member attributes]" of
    https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
    """
    created = provisioner.post("/Groups", entra_group(provisioner.name("before")))
    location = created.json()["meta"]["location"]
    renamed = provisioner.name("after")
    operation = {"op": "Replace", "path": "displayName", "value": renamed}

    send_patch(client, location, operation)

    assert client.get(location).json()["displayName"] == renamed


@pytest.mark.requires_feature("patch")
@pytest.mark.parametrize("flagged", [False, True], ids=["default", "aadOptscim062020"])
def test_entra_adds_and_removes_members(client, provisioner, flagged):
    """Entra ID adds members with "Add" of a list of values whose $ref is
    null, and removes one with "Remove" of such a list, or, with the
    aadOptscim062020 flag, with a remove of members[value eq "..."].

    "Update Group [Add Members]" and "Update Group [Remove Members]" of
    https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
    and "Requests made to remove a group member" of
    https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility
    """
    ada, bob = provisioner.user("ada"), provisioner.user("bob")
    created = provisioner.post("/Groups", entra_group(provisioner.name("team")))
    location = created.json()["meta"]["location"]
    added = [{"$ref": None, "value": user["id"]} for user in (ada, bob)]
    if flagged:
        removal = {"op": "remove", "path": f'members[value eq "{ada["id"]}"]'}
    else:
        removal = {"op": "Remove", "path": "members", "value": [added[0]]}

    send_patch(client, location, {"op": "Add", "path": "members", "value": added})
    send_patch(client, location, removal)

    members = client.get(location).json().get("members", [])
    assert [member["value"] for member in members] == [bob["id"]]


@pytest.mark.parametrize("endpoint", ["/Users", "/Groups"])
def test_entra_deletes(client, provisioner, endpoint):
    """Entra ID deletes users and groups with DELETE, expecting 204; they are
    gone afterwards.

    "Delete User" and "Delete Group" of
    https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
    """
    name = provisioner.name("doomed")
    body = entra_user(name) if endpoint == "/Users" else entra_group(name)
    location = provisioner.post(endpoint, body).json()["meta"]["location"]

    response = client.delete(location)

    assert response.status == 204, str(response)
    assert_scim_error(client.get(location), 404)
