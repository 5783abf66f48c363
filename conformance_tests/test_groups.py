"""Group membership, seen from the Group and from the User: RFC 7643 §4.2
and §4.1.2, through the operations of RFC 7644 §3."""

from __future__ import annotations

import pytest

from conformance_tests.provisioner import group_body, user_body
from conformance_tests.scim_http import assert_list_response, assert_scim_error


@pytest.fixture
def ada(provisioner):
    return provisioner.user("ada", displayName="Ada Lovelace")


def test_members_name_users_by_id_and_type(client, provisioner, ada):
    """RFC 7643 §4.2: a member's value is the id of a resource and its type
    is "User" or "Group"; $ref, when given, is the member's URI, and display
    is the member's human-readable name."""
    team = provisioner.group("team", members=[ada])

    response = client.get(f"/Groups/{team['id']}")

    assert response.status == 200, str(response)
    [member] = response.json()["members"]
    assert member["value"] == ada["id"]
    assert member["type"] == "User"
    if "$ref" in member:
        assert member["$ref"].endswith(f"/Users/{ada['id']}")
    if "display" in member:
        assert member["display"] == "Ada Lovelace"


def test_a_group_may_be_a_member(client, provisioner, ada):
    """RFC 7643 §4.2: members may be Groups, which allows nested groups; such
    a member has type "Group"."""
    inner = provisioner.group("inner", members=[ada])
    outer = provisioner.group("outer", members=[inner])

    [member] = client.get(f"/Groups/{outer['id']}").json()["members"]

    assert member["value"] == inner["id"]
    assert member["type"] == "Group"


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_an_unknown_member_is_400_invalid_value(client, provisioner, ada, method):
    """RFC 7644 §3.12: a value that does not fit the resource's schema is
    400 invalidValue; a member's value must be the id of a resource (RFC
    7643 §4.2), and the id of a deleted user is no longer one."""
    gone = {"id": provisioner.gone(provisioner.user("gone"))}
    body = group_body(provisioner.name("team"), members=[ada, gone])

    if method == "POST":
        response = provisioner.post("/Groups", body)
    else:
        team = provisioner.group("team")
        response = client.put(f"/Groups/{team['id']}", body)

    assert_scim_error(response, 400, "invalidValue")


def test_put_replaces_the_members(client, provisioner, ada):
    """RFC 7644 §3.5.1: the members sent in a PUT SHALL replace the existing
    ones."""
    bob = provisioner.user("bob")
    team = provisioner.group("team", members=[ada])

    response = client.put(
        f"/Groups/{team['id']}", group_body(team["displayName"], members=[bob])
    )

    assert response.status == 200, str(response)
    fetched = client.get(f"/Groups/{team['id']}").json()
    assert [member["value"] for member in fetched["members"]] == [bob["id"]]


def test_a_users_groups_lists_its_groups(client, provisioner, ada):
    """RFC 7643 §4.1.2: a User's groups lists the Groups it belongs to, each
    by the Group's id, with "direct" as the type of a direct membership.
    Groups the server counts everyone in ("dynamically calculated") may be
    listed too."""
    team = provisioner.group("team", members=[ada])

    response = client.get(f"/Users/{ada['id']}")

    assert response.status == 200, str(response)
    groups = response.json()["groups"]
    [group] = [listed for listed in groups if listed["value"] == team["id"]]
    assert group.get("type", "direct") == "direct"
    if "display" in group:
        assert group["display"] == team["displayName"]


def test_a_users_groups_include_groups_reached_through_nesting(
    client, provisioner, ada
):
    """RFC 7643 §4.1.2: groups lists the Groups a User belongs to either
    directly or through nested groups; "indirect" labels the latter."""
    inner = provisioner.group("inner", members=[ada])
    outer = provisioner.group("outer", members=[inner])

    groups = client.get(f"/Users/{ada['id']}").json()["groups"]

    types = {group["value"]: group.get("type") for group in groups}
    assert (types.get(inner["id"]), types.get(outer["id"])) == ("direct", "indirect")


def test_groups_sent_with_a_user_are_ignored(client, provisioner):
    """RFC 7643 §4.1.2: groups is readOnly and membership changes MUST go
    through the Group; RFC 7643 §2.2: readOnly values SHALL be ignored."""
    team = provisioner.group("team")
    body = user_body(provisioner.name("joiner"), groups=[{"value": team["id"]}])

    response = provisioner.post("/Users", body)

    assert response.status == 201, str(response)
    groups = response.json().get("groups", [])
    assert team["id"] not in {group["value"] for group in groups}
    assert not client.get(f"/Groups/{team['id']}").json().get("members")


@pytest.mark.requires_feature("filter")
def test_groups_can_be_found_by_member(client, provisioner, ada):
    """RFC 7644 §3.4.2.2: a filter on a sub-attribute of a multi-valued
    attribute, members.value, finds the Groups a resource belongs to."""
    team = provisioner.group("team", members=[ada])
    provisioner.group("others")

    expression = f'members.value eq "{ada["id"]}"'

    response = client.get("/Groups", {"filter": provisioner.groups_filter(expression)})

    page = assert_list_response(response)
    assert [group["id"] for group in page["Resources"]] == [team["id"]]
