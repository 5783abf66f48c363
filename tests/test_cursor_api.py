"""Cursor paging (RFC 9865) through the app, on both databases."""

from __future__ import annotations

import itertools

import pytest

from tests.factories import user_body

USERS = "/scim/v2/Users"
TITLES = ["b", None, "a", "c", None, "a", "B", "", "a"]


@pytest.fixture
def users(client, clock):
    for title in TITLES:
        body = user_body() if title is None else user_body(title=title)
        assert client.simulate_post(USERS, json=body).status_code == 201
        clock.advance(seconds=1)
    # With the admin from init, that is ten users.


def walk_forward(client, params, count):
    page = client.simulate_get(USERS, params={**params, "cursor": "", "count": count})
    pages = [page.json]
    while "nextCursor" in pages[-1]:
        cursor = pages[-1]["nextCursor"]
        page = client.simulate_get(
            USERS, params={**params, "cursor": cursor, "count": count}
        )
        assert page.status_code == 200, page.text
        pages.append(page.json)
    return pages


def ids(pages):
    return [r["id"] for page in pages for r in page["Resources"]]


ORDERS = [
    {},
    {"sortBy": "title"},
    {"sortBy": "title", "sortOrder": "descending"},
    {"sortBy": "userName", "sortOrder": "descending"},
    {"sortBy": "meta.created"},
    {"filter": 'title eq "a" or not (title pr)', "sortBy": "title"},
]


@pytest.mark.parametrize("params", ORDERS)
@pytest.mark.parametrize("count", [1, 3, 4, 100])
def test_cursor_pages_visit_the_index_order_exactly_once(client, users, params, count):
    expected = client.simulate_get(USERS, params={**params, "count": 100}).json

    pages = walk_forward(client, params, count)

    assert ids(pages) == [r["id"] for r in expected["Resources"]]
    assert all(p["totalResults"] == expected["totalResults"] for p in pages)
    assert "previousCursor" not in pages[0]
    assert all("startIndex" not in page for page in pages)


@pytest.mark.parametrize("params", ORDERS)
def test_previous_cursor_returns_the_page_before(client, users, params):
    pages = walk_forward(client, params, 3)

    for earlier, later in itertools.pairwise(pages):
        back = client.simulate_get(
            USERS, params={**params, "cursor": later["previousCursor"], "count": 3}
        ).json
        assert [r["id"] for r in back["Resources"]] == [
            r["id"] for r in earlier["Resources"]
        ]
        assert "nextCursor" in back


def test_a_new_user_does_not_shift_the_pages(client, users, clock):
    first = client.simulate_get(USERS, params={"cursor": "", "count": 5}).json
    clock.advance(seconds=-3600)  # created "earlier" than everything seen
    client.simulate_post(USERS, json=user_body())

    second = client.simulate_get(
        USERS, params={"cursor": first["nextCursor"], "count": 5}
    ).json

    seen = {r["id"] for r in first["Resources"]}
    assert len(second["Resources"]) == 5
    assert not seen & {r["id"] for r in second["Resources"]}


@pytest.mark.parametrize(
    ("cursor", "scim_type"),
    [("garbage", "invalidCursor"), ("e30.AAAA", "invalidCursor")],
)
def test_forged_cursors_are_refused(client, users, cursor, scim_type):
    response = client.simulate_get(USERS, params={"cursor": cursor})

    assert response.status_code == 400
    assert response.json["scimType"] == scim_type


def test_a_tampered_cursor_is_refused(client, users):
    cursor = client.simulate_get(USERS, params={"cursor": "", "count": 2}).json[
        "nextCursor"
    ]
    payload, signature = cursor.split(".")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]

    response = client.simulate_get(USERS, params={"cursor": f"{tampered}.{signature}"})

    assert response.status_code == 400
    assert response.json["scimType"] == "invalidCursor"


def test_a_cursor_is_bound_to_its_filter_and_order(client, users):
    cursor = client.simulate_get(USERS, params={"cursor": "", "count": 2}).json[
        "nextCursor"
    ]

    response = client.simulate_get(USERS, params={"cursor": cursor, "sortBy": "title"})

    assert response.status_code == 400
    assert response.json["scimType"] == "invalidCursor"


def test_an_old_cursor_has_expired(client, users, clock):
    cursor = client.simulate_get(USERS, params={"cursor": "", "count": 2}).json[
        "nextCursor"
    ]
    clock.advance(hours=2)

    response = client.simulate_get(USERS, params={"cursor": cursor})

    assert response.status_code == 400
    assert response.json["scimType"] == "expiredCursor"


def test_cursor_and_start_index_together_are_refused(client, users):
    response = client.simulate_get(USERS, params={"cursor": "", "startIndex": "2"})

    assert response.status_code == 400
    assert response.json["scimType"] == "invalidValue"


def test_search_request_may_page_by_cursor(client, users):
    first = client.simulate_post(
        f"{USERS}/.search", json={"cursor": "", "count": 4, "sortBy": "title"}
    ).json
    second = client.simulate_post(
        f"{USERS}/.search",
        json={"cursor": first["nextCursor"], "count": 4, "sortBy": "title"},
    ).json

    assert len(first["Resources"]) == len(second["Resources"]) == 4
