"""Groups inside groups over HTTP, on both databases.

A User's ``groups`` lists direct and indirect memberships (RFC 7643 §4.1.2),
filters on ``groups`` see both, every user is a member of the built-in
``users``, and no write may make a group contain itself (RFC 7644 §3.12
``invalidValue``).
"""

from __future__ import annotations

import falcon.testing
import pytest

from scim_server.bootstrap import token_policy
from tests.factories import group_body, user_body
from tests.test_protocol_api import assert_scim_error
from tokens import issue

USERS = "/scim/v2/Users"
GROUPS = "/scim/v2/Groups"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BASE = "https://scim.example.com/scim/v2"


def post(client, path, body):
    response = client.simulate_post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json


def builtin(client, name):
    found = client.simulate_get(
        GROUPS, params={"filter": f'displayName eq "{name}"'}
    ).json
    return found["Resources"][0]


def patch(client, group, *operations):
    body = {"schemas": [PATCH_OP], "Operations": list(operations)}
    return client.simulate_patch(f"{GROUPS}/{group['id']}", json=body)


def user_names(response):
    assert response.status_code == 200, response.text
    return sorted(resource["userName"] for resource in response.json["Resources"])


@pytest.fixture
def tree(client):
    """ada in Inner, Inner in Middle, Middle in Outer; bob in Outer; cy alone."""
    ada = post(client, USERS, user_body("ada"))
    bob = post(client, USERS, user_body("bob"))
    cy = post(client, USERS, user_body("cy"))
    inner = post(client, GROUPS, group_body("Inner", members=[ada["id"]]))
    middle = post(client, GROUPS, group_body("Middle", members=[inner["id"]]))
    outer = post(client, GROUPS, group_body("Outer", members=[middle["id"], bob["id"]]))
    return {
        "ada": ada,
        "bob": bob,
        "cy": cy,
        "Inner": inner,
        "Middle": middle,
        "Outer": outer,
    }


# A User's groups


def test_a_users_groups_are_direct_and_indirect(client, tree):
    everyone = builtin(client, "users")

    fetched = client.simulate_get(f"{USERS}/{tree['ada']['id']}").json

    def entry(group, kind):
        return {
            "value": group["id"],
            "$ref": f"{BASE}/Groups/{group['id']}",
            "display": group["displayName"],
            "type": kind,
        }

    assert fetched["groups"] == [
        entry(tree["Inner"], "direct"),
        entry(tree["Middle"], "indirect"),
        entry(tree["Outer"], "indirect"),
        entry(everyone, "direct"),
    ]


def test_a_direct_membership_wins_over_an_inherited_one(client, tree):
    patch(
        client,
        tree["Outer"],
        {"op": "add", "path": "members", "value": [{"value": tree["ada"]["id"]}]},
    )

    fetched = client.simulate_get(f"{USERS}/{tree['ada']['id']}").json

    types = [(group["display"], group["type"]) for group in fetched["groups"]]
    assert types == [
        ("Inner", "direct"),
        ("Middle", "indirect"),
        ("Outer", "direct"),
        ("users", "direct"),
    ]


def test_lists_and_searches_show_the_same_groups(client, tree):
    listed = client.simulate_get(USERS, params={"filter": 'userName eq "ada"'}).json
    searched = client.simulate_post(
        f"{USERS}/.search",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'userName eq "ada"',
        },
    ).json
    fetched = client.simulate_get(f"{USERS}/{tree['ada']['id']}").json

    assert listed["Resources"][0]["groups"] == fetched["groups"]
    assert searched["Resources"][0]["groups"] == fetched["groups"]


def test_ungrouping_takes_the_inherited_groups_away(client, tree):
    response = patch(
        client,
        tree["Middle"],
        {"op": "remove", "path": f'members[value eq "{tree["Inner"]["id"]}"]'},
    )

    assert response.status_code in {200, 204}
    fetched = client.simulate_get(f"{USERS}/{tree['ada']['id']}").json
    assert [group["display"] for group in fetched["groups"]] == ["Inner", "users"]


# Filters on groups


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('groups.value eq "{Outer}"', ["ada", "bob"]),
        ('groups.value eq "{Middle}"', ["ada"]),
        ('groups.value eq "{Inner}"', ["ada"]),
        ('groups.display eq "outer"', ["ada", "bob"]),
        ('groups.display sw "MID"', ["ada"]),
        ('groups[display eq "Inner" or value eq "{Outer}"]', ["ada", "bob"]),
        ('not (groups.value eq "{Outer}") and userName ne "admin"', ["cy"]),
        ('groups.value eq "{users}"', ["ada", "admin", "bob", "cy"]),
        ('groups.display eq "users" and userName sw "a"', ["ada", "admin"]),
        ("groups pr", ["ada", "admin", "bob", "cy"]),
    ],
)
def test_group_filters_see_inherited_groups(client, tree, expression, expected):
    ids = {name: resource["id"] for name, resource in tree.items()}
    ids["users"] = builtin(client, "users")["id"]

    response = client.simulate_get(
        USERS, params={"filter": expression.format(**ids), "count": 100}
    )

    assert user_names(response) == expected


def test_a_group_holding_users_holds_everyone(client, tree):
    everyone = builtin(client, "users")
    staff = post(client, GROUPS, group_body("Staff", members=[everyone["id"]]))

    by_value = client.simulate_get(
        USERS, params={"filter": f'groups.value eq "{staff["id"]}"'}
    )
    fetched = client.simulate_get(f"{USERS}/{tree['cy']['id']}").json

    assert user_names(by_value) == ["ada", "admin", "bob", "cy"]
    assert [(g["display"], g["type"]) for g in fetched["groups"]] == [
        ("Staff", "indirect"),
        ("users", "direct"),
    ]


# The members of users


def test_users_has_every_user_as_a_member(client, tree):
    everyone = builtin(client, "users")

    fetched = client.simulate_get(f"{GROUPS}/{everyone['id']}").json
    slim = client.simulate_get(
        f"{GROUPS}/{everyone['id']}", params={"excludedAttributes": "members"}
    ).json

    # Users without a displayName are shown by userName.
    assert sorted(member["display"] for member in fetched["members"]) == [
        "ada",
        "admin",
        "bob",
        "cy",
    ]
    assert {member["type"] for member in fetched["members"]} == {"User"}
    assert "members" not in slim


def test_a_member_filter_finds_users_for_every_user(client, tree):
    by_member = client.simulate_get(
        GROUPS, params={"filter": f'members.value eq "{tree["cy"]["id"]}"'}
    ).json
    group_members = client.simulate_get(
        GROUPS, params={"filter": 'members[type eq "Group"]'}
    ).json

    assert [g["displayName"] for g in by_member["Resources"]] == ["users"]
    assert sorted(g["displayName"] for g in group_members["Resources"]) == [
        "Middle",
        "Outer",
    ]


# Cycles


def assert_refused_and_unchanged(client, response, group, cycle):
    assert_scim_error(response, 400, "invalidValue")
    quoted = [f'"{name}"' for name in cycle]
    named = f"{quoted[0]} would contain {', which contains '.join(quoted[1:])}"
    assert response.json["detail"].endswith(named)
    after = client.simulate_get(f"{GROUPS}/{group['id']}").json
    assert after["meta"]["version"] == group["meta"]["version"]
    assert after.get("members") == group.get("members")


@pytest.mark.parametrize("op", ["add", "replace"])
def test_patch_refuses_a_cycle(client, tree, op):
    inner = tree["Inner"]

    response = patch(
        client,
        inner,
        {"op": op, "path": "members", "value": [{"value": tree["Outer"]["id"]}]},
    )

    assert_refused_and_unchanged(
        client, response, inner, ["Inner", "Outer", "Middle", "Inner"]
    )


def test_a_no_path_patch_refuses_a_cycle(client, tree):
    middle = tree["Middle"]

    response = patch(
        client,
        middle,
        {"op": "add", "value": {"members": [{"value": tree["Outer"]["id"]}]}},
    )

    assert_refused_and_unchanged(
        client, response, middle, ["Middle", "Outer", "Middle"]
    )


def test_put_refuses_a_cycle(client, tree):
    inner = tree["Inner"]
    members = [tree["ada"]["id"], tree["Middle"]["id"]]

    response = client.simulate_put(
        f"{GROUPS}/{inner['id']}", json=group_body("Inner", members=members)
    )

    assert_refused_and_unchanged(client, response, inner, ["Inner", "Middle", "Inner"])


def test_nesting_without_a_cycle_is_allowed_both_ways(client, tree):
    # Outer already holds Inner through Middle; holding it directly too is
    # no cycle, and neither is a new group holding Outer.
    response = patch(
        client,
        tree["Outer"],
        {"op": "add", "path": "members", "value": [{"value": tree["Inner"]["id"]}]},
    )
    top = client.simulate_post(
        GROUPS, json=group_body("Top", members=[tree["Outer"]["id"]])
    )

    assert response.status_code in {200, 204}
    assert top.status_code == 201


# Admin rights through nesting


def test_a_member_of_a_group_inside_admins_is_an_admin(client, keys, settings):
    operator = post(client, USERS, user_body("operator"))
    ops = post(client, GROUPS, group_body("Ops", members=[operator["id"]]))
    platform = post(client, GROUPS, group_body("Platform", members=[ops["id"]]))
    patch(
        client,
        builtin(client, "admins"),
        {"op": "add", "path": "members", "value": [{"value": platform["id"]}]},
    )
    token = issue(
        keys, token_policy(settings), user_id=int(operator["id"]), now=settings.clock()
    ).token
    as_operator = falcon.testing.TestClient(
        client.app, headers={"Authorization": f"Bearer {token}"}
    )

    response = as_operator.simulate_post(USERS, json=user_body("hired"))

    assert response.status_code == 201, response.text
