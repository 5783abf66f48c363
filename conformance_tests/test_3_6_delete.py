"""Deleting resources: RFC 7644 §3.6."""

from __future__ import annotations

import pytest

from conformance_tests.provisioner import group_body, user_body
from conformance_tests.scim_http import assert_list_response, assert_scim_error

KINDS = [
    pytest.param("/Users", user_body, id="User"),
    pytest.param("/Groups", group_body, id="Group"),
]


@pytest.mark.parametrize(("endpoint", "make_body"), KINDS)
def test_delete_is_204_and_the_resource_is_gone(
    client, provisioner, endpoint, make_body
):
    """RFC 7644 §3.6: a successful DELETE SHALL answer 204 No Content, and
    every later operation on the resource MUST answer 404."""
    body = make_body(provisioner.name("doomed"))
    created = provisioner.post(endpoint, body)
    assert created.status == 201, str(created)
    location = created.json()["meta"]["location"]

    deleted = client.delete(location)

    assert deleted.status == 204, str(deleted)
    assert deleted.body == b""
    assert_scim_error(client.get(location), 404)
    assert_scim_error(client.put(location, body), 404)
    assert_scim_error(client.delete(location), 404)


@pytest.mark.requires_feature("filter")
def test_a_deleted_user_leaves_query_results(client, provisioner):
    """RFC 7644 §3.6: a deleted resource MUST be omitted from later query
    results."""
    provisioner.gone(provisioner.user("ghost"))
    kept = provisioner.user("kept")

    page = assert_list_response(
        client.get("/Users", {"filter": provisioner.users_filter()})
    )

    assert [user["id"] for user in page["Resources"]] == [kept["id"]]
    assert page["totalResults"] == 1


def test_a_deleted_user_leaves_its_groups(client, provisioner):
    """RFC 7644 §3.6: after a DELETE every operation on the resource is 404,
    so a Group that went on listing it as a member would point clients at
    nothing (RFC 7643 §4.2: a member's value is the id of a resource)."""
    leaving = provisioner.user("leaving")
    staying = provisioner.user("staying")
    team = provisioner.group("team", members=[leaving, staying])

    provisioner.gone(leaving)

    members = client.get(f"/Groups/{team['id']}").json().get("members", [])
    assert [member["value"] for member in members] == [staying["id"]]


def test_deleting_a_group_keeps_its_members(client, provisioner):
    """RFC 7644 §3.6 deletes the resource named, and no other: the group's
    members remain, and their groups attribute (RFC 7643 §4.1.2) no longer
    names it."""
    member = provisioner.user("member")
    team = provisioner.group("team", members=[member])

    provisioner.gone(team)

    response = client.get(f"/Users/{member['id']}")
    assert response.status == 200, str(response)
    groups = response.json().get("groups", [])
    assert team["id"] not in {group["value"] for group in groups}
