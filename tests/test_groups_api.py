"""/Groups through the Falcon app, on both databases."""

from __future__ import annotations

import pytest

from tests.factories import group_body, user_body

GROUPS = "/scim/v2/Groups"


def create_user(client, **attributes):
    response = client.simulate_post("/scim/v2/Users", json=user_body(**attributes))
    assert response.status_code == 201, response.text
    return response.json


def create_group(client, body):
    response = client.simulate_post(GROUPS, json=body)
    assert response.status_code == 201, response.text
    return response.json


def test_create_with_user_and_group_members(client):
    user = create_user(client, displayName="Babs Jensen")
    inner = create_group(client, group_body("Inner"))

    group = create_group(client, group_body("Outer", members=[user["id"], inner["id"]]))

    members = sorted(group["members"], key=lambda m: m["type"])
    assert members == [
        {
            "value": inner["id"],
            "$ref": f"https://scim.example.com/scim/v2/Groups/{inner['id']}",
            "display": "Inner",
            "type": "Group",
        },
        {
            "value": user["id"],
            "$ref": f"https://scim.example.com/scim/v2/Users/{user['id']}",
            "display": "Babs Jensen",
            "type": "User",
        },
    ]


def test_unknown_member_is_invalid_value_naming_it_and_nothing_is_written(client):
    user = create_user(client)

    response = client.simulate_post(
        GROUPS, json=group_body("Doomed", members=[user["id"], "1234567"])
    )

    assert response.status_code == 400
    assert response.json["scimType"] == "invalidValue"
    assert "1234567" in response.json["detail"]
    listed = client.simulate_get(GROUPS).json
    assert "Doomed" not in [g["displayName"] for g in listed["Resources"]]


def test_display_name_is_unique_case_insensitively(client):
    create_group(client, group_body("Growth team"))

    response = client.simulate_post(GROUPS, json=group_body("GROWTH TEAM"))

    assert response.status_code == 409
    assert response.json["scimType"] == "uniqueness"


def test_display_name_is_required(client):
    body = group_body()
    del body["displayName"]

    response = client.simulate_post(GROUPS, json=body)

    assert response.status_code == 400
    assert response.json["scimType"] == "invalidValue"


def test_entra_id_extra_schema_urn_is_tolerated(client):
    # Entra ID adds a schema URN of its own to groups it provisions.
    body = group_body("Entra group")
    body["schemas"].append(
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
    )

    group = create_group(client, body)

    assert group["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:Group"]


def test_put_replaces_members_by_difference(client):
    alice, bob, carol = (create_user(client) for _ in range(3))
    group = create_group(client, group_body("Team", members=[alice["id"], bob["id"]]))

    replaced = client.simulate_put(
        f"{GROUPS}/{group['id']}",
        json=group_body("Team", members=[bob["id"], carol["id"]]),
    )

    assert replaced.status_code == 200
    assert {m["value"] for m in replaced.json["members"]} == {bob["id"], carol["id"]}
    alice_now = client.simulate_get(f"/scim/v2/Users/{alice['id']}").json
    assert [g["display"] for g in alice_now["groups"]] == ["users"]


def test_put_without_members_clears_them(client):
    user = create_user(client)
    group = create_group(client, group_body("Team", members=[user["id"]]))

    replaced = client.simulate_put(f"{GROUPS}/{group['id']}", json=group_body("Team"))

    assert "members" not in replaced.json


def test_a_group_cannot_contain_itself(client):
    group = create_group(client, group_body("Loop"))

    response = client.simulate_put(
        f"{GROUPS}/{group['id']}", json=group_body("Loop", members=[group["id"]])
    )

    assert response.status_code == 400
    assert response.json["scimType"] == "invalidValue"


def test_rename_keeps_members_and_changes_version(client):
    user = create_user(client)
    group = create_group(client, group_body("Old name", members=[user["id"]]))

    renamed = client.simulate_put(
        f"{GROUPS}/{group['id']}",
        json=group_body("New name", members=[user["id"]]),
    ).json

    assert renamed["displayName"] == "New name"
    assert renamed["meta"]["version"] != group["meta"]["version"]
    user_now = client.simulate_get(f"/scim/v2/Users/{user['id']}").json
    assert user_now["groups"][0]["display"] == "New name"


@pytest.mark.parametrize("name", ["admins", "users"])
def test_builtin_groups_cannot_be_deleted_or_renamed(client, name):
    listed = client.simulate_get(GROUPS, params={"count": 100}).json["Resources"]
    builtin = next(g for g in listed if g["displayName"] == name)

    deleted = client.simulate_delete(f"{GROUPS}/{builtin['id']}")
    renamed = client.simulate_put(
        f"{GROUPS}/{builtin['id']}", json=group_body(f"{name}-renamed")
    )

    assert deleted.status_code == 400
    assert deleted.json["scimType"] == "mutability"
    assert renamed.status_code == 400
    assert renamed.json["scimType"] == "mutability"


def test_deleting_a_group_removes_it_from_parent_groups(client):
    child = create_group(client, group_body("Child"))
    parent = create_group(client, group_body("Parent", members=[child["id"]]))

    deleted = client.simulate_delete(f"{GROUPS}/{child['id']}")

    assert deleted.status_code == 204
    parent_now = client.simulate_get(f"{GROUPS}/{parent['id']}").json
    assert "members" not in parent_now


def test_excluding_members_never_reads_the_membership_table(client, sql):
    users = [create_user(client)["id"] for _ in range(3)]
    group = create_group(client, group_body("Big", members=users))

    with sql.capture() as statements:
        fetched = client.simulate_get(
            f"{GROUPS}/{group['id']}", params={"excludedAttributes": "members"}
        ).json

    assert "members" not in fetched
    # One statement verifies the token (it checks admin membership); the only
    # other one reads the group row.
    assert len(statements) == 2
    assert "membership" not in statements[1]


def test_list_reads_members_of_a_page_in_one_query(client, sql):
    users = [create_user(client)["id"] for _ in range(4)]
    for index in range(6):
        create_group(client, group_body(f"G{index}", members=users[: index % 4]))

    with sql.capture() as statements:
        page = client.simulate_get(GROUPS, params={"count": 100}).json

    assert page["totalResults"] == 8  # six plus the built-in admins and users
    # Token, page, members of the page, and every user for "users"; the
    # page is short, so it is the last one and no count is needed.
    assert len(statements) == 4
