"""Querying with POST and a SearchRequest: RFC 7644 §3.4.3."""

from __future__ import annotations

import pytest

from conformance_tests.scim_http import (
    SEARCH_REQUEST_SCHEMA,
    assert_list_response,
    assert_scim_error,
)

pytestmark = pytest.mark.requires_feature("filter")


@pytest.fixture(scope="module")
def people(module_provisioner):
    return [
        module_provisioner.user(label, title=title)
        for label, title in [("ann", "Pilot"), ("ben", "Pilot"), ("cat", "Chef")]
    ]


@pytest.fixture(scope="module")
def teams(module_provisioner, people):
    return [
        module_provisioner.group("crew", members=people[:2]),
        module_provisioner.group("galley", members=people[2:]),
    ]


def search_request(**attributes):
    return {"schemas": [SEARCH_REQUEST_SCHEMA], **attributes}


def test_user_search_answers_like_the_get_form(client, module_provisioner, people):
    """RFC 7644 §3.4.3: a POST of a SearchRequest to /Users/.search runs the
    query its attributes describe, answered with 200 and a ListResponse like
    the same query sent as GET parameters (§3.4.2)."""
    query = {"filter": module_provisioner.users_filter('title eq "Pilot"')}

    searched = client.post("/Users/.search", search_request(**query))
    listed = client.get("/Users", query)

    found = assert_list_response(searched)
    assert found["totalResults"] == 2
    assert _ids(found) == _ids(assert_list_response(listed))
    assert _ids(found) == {user["id"] for user in people[:2]}


def test_group_search(client, module_provisioner, teams):
    """RFC 7644 §3.4.3: .search is available on every resource endpoint,
    /Groups included."""
    request = search_request(filter=module_provisioner.groups_filter())

    found = assert_list_response(client.post("/Groups/.search", request))

    assert _ids(found) == {team["id"] for team in teams}


def test_search_request_pages_sorts_and_projects(client, module_provisioner, people):
    """RFC 7644 §3.4.3: a SearchRequest carries attributes, sortBy,
    sortOrder, startIndex and count, with the meaning of §3.4.2."""
    request = search_request(
        filter=module_provisioner.users_filter(),
        attributes=["userName"],
        sortBy="userName",
        sortOrder="descending",
        startIndex=2,
        count=1,
    )

    found = assert_list_response(client.post("/Users/.search", request))

    assert found["totalResults"] == 3
    [user] = found["Resources"]
    assert user["userName"] == module_provisioner.name("ben")
    assert "title" not in user


def test_search_request_excludes_attributes(client, module_provisioner, people):
    """RFC 7644 §3.4.3: excludedAttributes in a SearchRequest removes
    attributes from each resource, as in §3.4.2.5."""
    request = search_request(
        filter=module_provisioner.users_filter(), excludedAttributes=["title"]
    )

    found = assert_list_response(client.post("/Users/.search", request))

    assert len(found["Resources"]) == 3
    assert all("title" not in user for user in found["Resources"])
    assert all(user["userName"] for user in found["Resources"])


def test_invalid_filter_in_a_search_request_is_400(client):
    """RFC 7644 §3.12: an invalid filter is 400 invalidFilter, whether it
    came in the URL or in a SearchRequest."""
    response = client.post("/Users/.search", search_request(filter="userName eq"))

    assert_scim_error(response, 400, "invalidFilter")


def test_search_at_the_root_runs_or_is_not_implemented(
    client, module_provisioner, people
):
    """RFC 7644 §3.4.3 defines .search at the server root, across resource
    types. A server may not support it, and RFC 7644 §3.12 reserves 501 Not
    Implemented for that; 404 would deny that the URL means anything."""
    request = search_request(filter=module_provisioner.users_filter())

    response = client.post("/.search", request)

    if response.status == 501:
        assert_scim_error(response, 501)
    else:
        found = assert_list_response(response)
        assert _ids(found) == {user["id"] for user in people}


def _ids(page):
    return {resource["id"] for resource in page.get("Resources", [])}
