"""Paging parameters and SearchRequest bodies (RFC 7644 §3.4.2.4, §3.4.3)."""

from __future__ import annotations

import falcon
import falcon.testing
import pytest

from scim_server.errors import InvalidSyntax, InvalidValue
from scim_server.listing import SEARCH_REQUEST, ListRequest, Page

DEFAULT, MAXIMUM = 50, 200


def page(start_index: str | int | None, count: str | int | None) -> Page:
    return Page.parse(start_index, count, default_count=DEFAULT, max_count=MAXIMUM)


@pytest.mark.parametrize(
    ("start_index", "count", "expected"),
    [
        (None, None, Page(1, DEFAULT)),
        ("", " ", Page(1, DEFAULT)),
        ("3", "7", Page(3, 7)),
        (" 3 ", " 7 ", Page(3, 7)),
        (3, 7, Page(3, 7)),
        # A startIndex below 1 SHALL be read as 1.
        ("0", None, Page(1, DEFAULT)),
        ("-5", None, Page(1, DEFAULT)),
        # A negative count SHALL be read as 0; 0 asks for totalResults only.
        (None, "0", Page(1, 0)),
        (None, "-1", Page(1, 0)),
        (None, -1, Page(1, 0)),
        # Above the cap, count is lowered rather than refused: the Databricks
        # SDK asks for 10,000 and pages on regardless.
        (None, str(MAXIMUM), Page(1, MAXIMUM)),
        (None, str(MAXIMUM + 1), Page(1, MAXIMUM)),
        (None, "10000", Page(1, MAXIMUM)),
    ],
)
def test_page_is_read_the_way_the_rfc_says(start_index, count, expected):
    assert page(start_index, count) == expected


def test_offset_counts_from_zero():
    assert page("1", None).offset == 0
    assert page("11", None).offset == 10


@pytest.mark.parametrize(
    ("start_index", "count", "detail"),
    [
        ("one", None, "startIndex must be an integer, got 'one'"),
        ("1.5", None, "startIndex must be an integer, got '1.5'"),
        (None, "ten", "count must be an integer, got 'ten'"),
        (None, "1e3", "count must be an integer, got '1e3'"),
    ],
)
def test_paging_values_that_are_not_integers_are_invalid(start_index, count, detail):
    with pytest.raises(InvalidValue) as excinfo:
        page(start_index, count)

    assert excinfo.value.detail == detail


def test_start_index_is_kept_within_what_a_response_can_carry():
    parsed = page("99999999999999999999", None)

    assert parsed.start_index < 2**63


def request(query_string: str) -> falcon.Request:
    return falcon.testing.create_req(query_string=query_string)


@pytest.mark.parametrize(
    ("query_string", "attributes"),
    [
        ("attributes=userName", ("userName",)),
        ("attributes=userName,name.givenName", ("userName", "name.givenName")),
        ("attributes=userName&attributes=emails", ("userName", "emails")),
        ("attributes=a,b&attributes=c", ("a", "b", "c")),
        ("attributes=%20userName%20,,emails,", ("userName", "emails")),
        ("", ()),
    ],
)
def test_attribute_lists_may_be_comma_separated_or_repeated(query_string, attributes):
    assert ListRequest.from_query(request(query_string)).attributes == attributes


def test_query_parameters_become_a_list_request():
    query_string = (
        "filter=userName%20eq%20%22bjensen%22&sortBy=userName&sortOrder=descending"
        "&startIndex=3&count=7&excludedAttributes=groups"
    )

    parsed = ListRequest.from_query(request(query_string))

    assert parsed == ListRequest(
        filter='userName eq "bjensen"',
        sort_by="userName",
        sort_order="descending",
        start_index="3",
        count="7",
        excluded_attributes=("groups",),
    )


def test_search_request_body_becomes_the_same_list_request():
    body = {
        "schemas": [SEARCH_REQUEST],
        "filter": 'userName eq "bjensen"',
        "sortBy": "userName",
        "sortOrder": "descending",
        "startIndex": 3,
        "count": 7,
        "attributes": ["userName", "emails"],
        "cursor": "",
    }

    parsed = ListRequest.from_search_request(body)

    assert parsed == ListRequest(
        filter='userName eq "bjensen"',
        sort_by="userName",
        sort_order="descending",
        start_index=3,
        count=7,
        attributes=("userName", "emails"),
        cursor="",
    )


def test_search_request_names_match_in_any_case():
    body = {"FILTER": "title pr", "StartIndex": 2, "EXCLUDEDATTRIBUTES": ["groups"]}

    parsed = ListRequest.from_search_request(body)

    assert (parsed.filter, parsed.start_index) == ("title pr", 2)
    assert parsed.excluded_attributes == ("groups",)


@pytest.mark.parametrize(
    ("attributes", "parsed"),
    [
        ("userName, emails", ("userName", "emails")),
        ([" userName ", ""], ("userName",)),
        (None, ()),
    ],
)
def test_search_request_attributes_may_be_a_list_or_a_comma_string(attributes, parsed):
    body = {"schemas": [SEARCH_REQUEST], "attributes": attributes}

    assert ListRequest.from_search_request(body).attributes == parsed


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"count": "10"}, "count"),
        ({"count": 1.0}, "count"),
        ({"count": True}, "count"),
        ({"startIndex": "2"}, "startIndex"),
        ({"filter": 5}, "filter"),
        ({"sortBy": ["userName"]}, "sortBy"),
        ({"attributes": [1]}, "attributes"),
        ({"excludedAttributes": {"groups": True}}, "excludedAttributes"),
    ],
)
def test_search_request_values_of_the_wrong_type_are_invalid(body, names):
    with pytest.raises(InvalidValue) as excinfo:
        ListRequest.from_search_request(body)

    assert excinfo.value.detail.startswith(names)


@pytest.mark.parametrize("body", [[], "filter=title pr", None])
def test_a_search_request_that_is_not_an_object_is_invalid_syntax(body):
    with pytest.raises(InvalidSyntax):
        ListRequest.from_search_request(body)
