"""Sorting and index paging of lists: RFC 7644 §3.4.2.3 and §3.4.2.4.

Five users are created once for the module, and every list is narrowed to
them by a filter on their name prefix, so filtering must work too.
"""

from __future__ import annotations

import pytest

from conformance_tests.scim_http import assert_list_response

pytestmark = pytest.mark.requires_feature("filter")

# Mixed case on purpose: sorted case-insensitively, as userName's caseExact
# false requires, the order is alice, Bob, carol, Dave, erin; a case-exact
# sort would put Bob and Dave first.
#
# Each user's primary email, or first email when none is primary, sorts in
# yet another order: carol, Bob, Dave, alice, erin. Sorting by the first
# email regardless of primary would put alice first.
PEOPLE = {
    "alice": {
        "name": {"familyName": "Zimmer"},
        "emails": [
            {"value": "0@sort.example"},
            {"value": "4@sort.example", "primary": True},
        ],
    },
    "Bob": {
        "name": {"familyName": "Young"},
        "emails": [{"value": "2@sort.example", "primary": True}],
    },
    "carol": {
        "name": {"familyName": "Xu"},
        "emails": [
            {"value": "9@sort.example"},
            {"value": "1@sort.example", "primary": True},
        ],
    },
    "Dave": {
        "name": {"familyName": "Walker"},
        "emails": [{"value": "3@sort.example"}],
    },
    "erin": {
        "name": {"familyName": "Vance"},
        "emails": [{"value": "5@sort.example"}],
    },
}
BY_NAME = ["alice", "Bob", "carol", "Dave", "erin"]


@pytest.fixture(scope="module")
def people(module_provisioner):
    return {
        label: module_provisioner.user(label, **attributes)
        for label, attributes in PEOPLE.items()
    }


@pytest.fixture
def listing(client, module_provisioner, people):
    """A function that lists the module's users with extra parameters."""

    def page(**params):
        params = {"filter": module_provisioner.users_filter(), **params}
        return assert_list_response(client.get("/Users", params))

    return page


@pytest.fixture
def labels(module_provisioner):
    def of(page):
        return [
            module_provisioner.label(user["userName"])
            for user in page.get("Resources", [])
        ]

    return of


@pytest.mark.requires_feature("sort")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sortBy": "userName", "sortOrder": "ascending"}, BY_NAME),
        ({"sortBy": "userName"}, BY_NAME),
        ({"sortBy": "userName", "sortOrder": "descending"}, BY_NAME[::-1]),
        ({"sortBy": "USERNAME"}, BY_NAME),
        ({"sortBy": "name.familyName"}, BY_NAME[::-1]),
    ],
    ids=["ascending", "default", "descending", "any-case", "sub-attribute"],
)
def test_sort_by(listing, labels, params, expected):
    """RFC 7644 §3.4.2.3: sortBy orders by an attribute, sub-attributes in
    dotted notation included; sortOrder SHALL default to ascending; a string
    with caseExact false sorts case-insensitively. Attribute names are
    case-insensitive (RFC 7643 §2.1)."""
    assert labels(listing(**params)) == expected


@pytest.mark.requires_feature("sort")
def test_sort_by_a_multi_valued_attribute_uses_the_primary_value(listing, labels):
    """RFC 7644 §3.4.2.3: sorting by a multi-valued attribute orders by its
    primary value, or else by its first value."""
    page = listing(sortBy="emails.value")

    assert labels(page) == ["carol", "Bob", "Dave", "alice", "erin"]


@pytest.mark.requires_feature("sort")
def test_pages_walk_the_sorted_list(listing, labels):
    """RFC 7644 §3.4.2.4: startIndex is 1-based and count caps the page;
    every page reports the same totalResults and its own startIndex."""
    pages = [
        listing(sortBy="userName", startIndex=start, count=2) for start in (1, 3, 5)
    ]

    assert [labels(page) for page in pages] == [BY_NAME[0:2], BY_NAME[2:4], BY_NAME[4:]]
    assert [page["totalResults"] for page in pages] == [5, 5, 5]
    assert [page["startIndex"] for page in pages] == [1, 3, 5]
    assert [page["itemsPerPage"] for page in pages] == [2, 2, 1]


def test_count_zero_returns_only_the_total(listing):
    """RFC 7644 §3.4.2.4: count 0 returns no resources, only totalResults."""
    page = listing(count=0)

    assert page["totalResults"] == 5
    assert page.get("Resources", []) == []


def test_start_index_beyond_the_end_is_an_empty_page(listing):
    """RFC 7644 §3.4.2.4: a startIndex past the last result is no error; the
    page is empty and totalResults still counts every match."""
    page = listing(startIndex=6, count=10)

    assert page["totalResults"] == 5
    assert page.get("Resources", []) == []


@pytest.mark.parametrize("start", [0, -3])
def test_start_index_below_one_means_one(listing, labels, start):
    """RFC 7644 §3.4.2.4: a startIndex less than 1 SHALL be read as 1."""
    page = listing(startIndex=start, count=10)

    assert sorted(labels(page)) == sorted(BY_NAME)
    assert page.get("startIndex", 1) == 1


def test_negative_count_means_zero(listing):
    """RFC 7644 §3.4.2.4: a negative count SHALL be read as 0."""
    page = listing(count=-1)

    assert page["totalResults"] == 5
    assert page.get("Resources", []) == []


def test_count_never_exceeded(listing):
    """RFC 7644 §3.4.2.4: the service provider MUST NOT return more results
    than count."""
    for count in (1, 2, 4):
        page = listing(count=count)
        assert len(page["Resources"]) == count
        assert page["totalResults"] == 5


def test_count_above_max_results_is_lowered(
    client, provisioner, service_provider_config
):
    """RFC 7644 §3.4.2.4: count is the most results wanted and the server MAY
    return fewer; RFC 7643 §5: filter.maxResults is the most it returns. A
    count above it gets a full page of maxResults, not an error."""
    most = service_provider_config["filter"].get("maxResults")
    if not isinstance(most, int) or most > 50:
        pytest.skip(f"filter.maxResults is {most!r}; exceeding it would be slow")
    for number in range(most + 1):
        provisioner.user(f"many{number:03}")

    response = client.get(
        "/Users", {"filter": provisioner.users_filter(), "count": most * 10}
    )

    page = assert_list_response(response)
    assert page["totalResults"] == most + 1
    assert len(page["Resources"]) == most
