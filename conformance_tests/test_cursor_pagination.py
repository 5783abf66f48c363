"""Cursor paging: RFC 9865, run only where /ServiceProviderConfig advertises
``pagination.cursor``.

Five users are created once for the module and every list is narrowed to
them by a filter on their name prefix.
"""

from __future__ import annotations

import math
import re
import urllib.parse

import pytest

from conformance_tests.scim_http import (
    SEARCH_REQUEST_SCHEMA,
    assert_list_response,
    assert_scim_error,
)

pytestmark = [
    pytest.mark.requires_feature("pagination.cursor"),
    pytest.mark.requires_feature("filter"),
]

LABELS = ["ash", "birch", "cedar", "elm", "fir"]
# RFC 3986 §2.3.
UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")


@pytest.fixture(scope="module")
def trees(module_provisioner):
    return {label: module_provisioner.user(label) for label in LABELS}


@pytest.fixture
def query(module_provisioner, trees):
    """The parameters every page of one cursor-paged query repeats."""
    return {"filter": module_provisioner.users_filter()}


def walk(client, query, count):
    """Every page of a query, following nextCursor from an empty cursor."""
    pages = [
        assert_list_response(
            client.get("/Users", {**query, "cursor": "", "count": count})
        )
    ]
    while "nextCursor" in pages[-1]:
        assert len(pages) <= len(LABELS), "nextCursor never ended"
        cursor = pages[-1]["nextCursor"]
        response = client.get("/Users", {**query, "cursor": cursor, "count": count})
        pages.append(assert_list_response(response))
    return pages


def ids(pages):
    return [user["id"] for page in pages for user in page.get("Resources", [])]


@pytest.mark.parametrize("count", [1, 2, 5])
def test_next_cursor_visits_every_result_once(client, query, trees, count):
    """RFC 9865 §2: a page holds at most count results, and nextCursor is in
    every page but the last, so following it visits each result once."""
    pages = walk(client, query, count)

    assert sorted(ids(pages)) == sorted(user["id"] for user in trees.values())
    assert all(len(page.get("Resources", [])) <= count for page in pages)
    assert len(pages) == math.ceil(len(LABELS) / count)


def test_a_page_that_holds_everything_has_no_next_cursor(client, query):
    """RFC 9865 §2: nextCursor is omitted only from the last page."""
    [page] = walk(client, query, count=10)

    assert len(page["Resources"]) == len(LABELS)
    assert "nextCursor" not in page


@pytest.mark.requires_feature("sort")
def test_cursor_pages_follow_the_sort_order(client, module_provisioner, query):
    """RFC 9865 §2.2: where sorting is implemented, cursor-paged results
    SHOULD be sorted."""
    pages = walk(client, {**query, "sortBy": "userName"}, count=2)

    names = [user["userName"] for page in pages for user in page["Resources"]]
    assert names == [module_provisioner.name(label) for label in LABELS]


def test_total_results_counts_every_page(client, query):
    """RFC 9865 §2: totalResults SHOULD be the number of results across all
    pages; a provider that cannot tell MAY omit it."""
    pages = walk(client, query, count=2)

    assert all(page.get("totalResults", len(LABELS)) == len(LABELS) for page in pages)


def test_a_bare_cursor_parameter_asks_for_the_first_page(client, query):
    """RFC 9865 §2: the cursor is empty or omitted on the first request; its
    own example sends a bare ``cursor`` with no value."""
    encoded = urllib.parse.urlencode(
        {**query, "count": 2}, quote_via=urllib.parse.quote
    )

    page = assert_list_response(client.get(f"/Users?cursor&{encoded}"))

    assert len(page["Resources"]) == 2
    assert "nextCursor" in page


def test_cursors_are_unreserved_characters(client, query):
    """RFC 9865 §2: a cursor may only contain characters from the unreserved
    set of RFC 3986 §2.2, so it travels in a URL unescaped."""
    pages = walk(client, query, count=1)
    cursors = [
        page[key]
        for page in pages
        for key in ("nextCursor", "previousCursor")
        if key in page
    ]

    assert cursors
    assert all(UNRESERVED.fullmatch(cursor) for cursor in cursors)


def test_previous_cursor_returns_the_page_before(client, query):
    """RFC 9865 §2: previousCursor, which is OPTIONAL, leads to the previous
    page of results."""
    first, second, *_ = walk(client, query, count=2)
    if "previousCursor" not in second:
        pytest.skip("the server returns no previousCursor (it is OPTIONAL)")

    back = client.get(
        "/Users", {**query, "cursor": second["previousCursor"], "count": 2}
    )

    assert ids([assert_list_response(back)]) == ids([first])


@pytest.mark.parametrize("cursor", ["not-a-cursor", "AAAA.BBBB", "~"])
def test_an_invalid_cursor_is_400_invalid_cursor(client, query, cursor):
    """RFC 9865 §2.1: a cursor the server cannot read SHOULD be answered 400
    with scimType invalidCursor."""
    response = client.get("/Users", {**query, "cursor": cursor})

    assert_scim_error(response, 400, "invalidCursor")


def test_search_requests_page_by_cursor(client, query, trees):
    """RFC 9865 §3: a SearchRequest POSTed to .search carries cursor and
    count as its query parameters would."""
    seen = []
    request = {"schemas": [SEARCH_REQUEST_SCHEMA], **query, "cursor": "", "count": 2}
    while True:
        page = assert_list_response(client.post("/Users/.search", request))
        seen.extend(user["id"] for user in page["Resources"])
        if "nextCursor" not in page:
            break
        assert len(seen) < len(LABELS), "nextCursor never ended"
        request["cursor"] = page["nextCursor"]

    assert sorted(seen) == sorted(user["id"] for user in trees.values())
