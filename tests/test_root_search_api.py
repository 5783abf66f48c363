"""POST /.search across resource types (RFC 7644 §3.4.3), on both databases."""

from __future__ import annotations

import pytest

from tests.factories import group_body, user_body
from tests.test_protocol_api import assert_scim_error

SEARCH = "/scim/v2/.search"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
# The built-in groups are made in the same instant, so their order is by
# their random ids; tests of order leave them out.
NOT_BUILTIN = 'not (displayName eq "admins" or displayName eq "users")'


def search(client, **fields):
    response = client.simulate_post(
        SEARCH, json={"schemas": [SEARCH_REQUEST], **fields}
    )
    assert response.status_code == 200, response.text
    return response.json


def labels(body):
    return [
        resource.get("userName") or resource["displayName"]
        for resource in body["Resources"]
    ]


@pytest.fixture
def directory(client, clock):
    """Three users and two groups (besides the built-in ones), made in turn."""
    made = {}
    for name in ("carol", "alice", "bob"):
        clock.advance(seconds=1)
        response = client.simulate_post(
            "/scim/v2/Users", json=user_body(name, displayName=f"{name.title()} X")
        )
        made[name] = response.json
    for name in ("Beta", "Alpha"):
        clock.advance(seconds=1)
        response = client.simulate_post("/scim/v2/Groups", json=group_body(name))
        made[name] = response.json
    return made


def test_without_a_filter_lists_users_then_groups(client, directory):
    body = search(client)

    found = labels(body)
    assert found[:4] == ["admin", "carol", "alice", "bob"]
    assert sorted(found[4:6]) == ["admins", "users"]
    assert found[6:] == ["Beta", "Alpha"]
    assert body["totalResults"] == 8
    assert {r["meta"]["resourceType"] for r in body["Resources"]} == {"User", "Group"}


def test_an_attribute_of_both_types_matches_both(client, directory):
    body = search(client, filter='displayName sw "a"')

    assert labels(body) == ["alice", "admins", "Alpha"]


def test_an_attribute_of_one_type_is_absent_on_the_other(client, directory):
    assert labels(search(client, filter='userName eq "bob"')) == ["bob"]
    # Groups have no userName, so "not" is true for every one of them.
    everyone_else = labels(search(client, filter='not (userName eq "bob")'))
    assert sorted(everyone_else) == sorted(
        ["admin", "carol", "alice", "admins", "users", "Beta", "Alpha"]
    )


def test_resource_type_filter(client, directory):
    body = search(client, filter='meta.resourceType eq "Group"')

    assert sorted(labels(body)) == ["Alpha", "Beta", "admins", "users"]


def test_an_attribute_of_no_type_is_invalid_filter(client, directory):
    response = client.simulate_post(
        SEARCH, json={"schemas": [SEARCH_REQUEST], "filter": 'nope eq "x"'}
    )

    assert_scim_error(response, 400, "invalidFilter")
    assert "nope" in response.json["detail"]


@pytest.mark.parametrize(
    ("start_index", "count", "expected"),
    [
        (1, 3, ["admin", "carol", "alice"]),
        (3, 3, ["alice", "bob", "Beta"]),
        (4, 2, ["bob", "Beta"]),
        (5, 10, ["Beta", "Alpha"]),
        (7, 10, []),
        (1, 0, []),
    ],
)
def test_index_paging_runs_across_the_types(
    client, directory, start_index, count, expected
):
    body = search(client, filter=NOT_BUILTIN, startIndex=start_index, count=count)

    assert labels(body) == expected
    assert body["totalResults"] == 6
    assert body["startIndex"] == start_index
    assert body["itemsPerPage"] == len(expected)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("ascending", ["alice", "Alpha", "Beta", "bob", "carol"]),
        ("descending", ["carol", "bob", "Beta", "Alpha", "alice"]),
    ],
)
def test_sorting_merges_the_types(client, directory, order, expected):
    body = search(
        client,
        filter=NOT_BUILTIN,
        sortBy="displayName",
        sortOrder=order,
        count=10,
    )

    # The admin user has no displayName: absent values sort last ascending.
    names = labels(body)
    if order == "ascending":
        assert names == [*expected, "admin"]
    else:
        assert names == ["admin", *expected]


def test_sorted_pages_continue_each_other(client, directory):
    pages = [
        labels(search(client, sortBy="meta.created", startIndex=start, count=3))
        for start in (1, 4, 7)
    ]

    everything = labels(search(client, sortBy="meta.created", count=20))
    assert [name for page in pages for name in page] == everything


def test_projection_applies_to_each_type(client, directory):
    body = search(client, filter='displayName sw "b"', attributes=["userName"])

    assert body["Resources"] == [
        {
            "schemas": body["Resources"][0]["schemas"],
            "id": directory["bob"]["id"],
            "userName": "bob",
        },
        {"schemas": body["Resources"][1]["schemas"], "id": directory["Beta"]["id"]},
    ]


def test_sort_by_an_attribute_one_type_lacks_is_refused(client, directory):
    response = client.simulate_post(
        SEARCH, json={"schemas": [SEARCH_REQUEST], "sortBy": "userName"}
    )

    assert_scim_error(response, 400, "invalidValue")


def test_cursor_paging_is_refused_at_the_root(client, directory):
    response = client.simulate_post(
        SEARCH, json={"schemas": [SEARCH_REQUEST], "cursor": ""}
    )

    assert_scim_error(response, 400, "invalidValue")
