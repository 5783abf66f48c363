"""Filters, sorting and .search through the app (RFC 7644 §3.4.2, §3.4.3).

One data set, created once per test, and a table of filters with the users
each must return, run on SQLite and on PostgreSQL. Every row is also checked
against the reference evaluator, so a wrong expectation in the table cannot
hide a matching bug in the compiler.
"""

from __future__ import annotations

import pytest

from scim_server.filtering import parse_filter
from scim_server.schema import ENTERPRISE_USER_SCHEMA as ENTERPRISE
from scim_server.schema import USER_SCHEMA, user_type
from tests.factories import group_body, user_body
from tests.filter_reference import matches

USERS = "/scim/v2/Users"

PEOPLE = [
    {
        "userName": "alice@example.com",
        "externalId": "00uA1",
        "name": {"givenName": "Alice", "familyName": "Liddell"},
        "title": "Engineer",
        "emails": [
            {"value": "alice@Example.com", "type": "work", "primary": True},
            {"value": "alice@home.org", "type": "home"},
        ],
        ENTERPRISE: {"employeeNumber": "100", "manager": {"value": "42"}},
    },
    {
        "userName": "BOB@example.com",
        "externalId": "00ub2",
        "title": "Manager",
        "active": False,
        "emails": [{"value": "bob@example.com", "type": "home"}],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
    },
    {
        "userName": "Straße",
        "nickName": "Ünï",
        "title": "",
        "emails": [{"value": "100%_sure@example.net", "type": "work"}],
    },
    {"userName": "dora", "title": "engineer"},
]


@pytest.fixture
def people(client, clock):
    created = {}
    for person in PEOPLE:
        schemas = [USER_SCHEMA] + ([ENTERPRISE] if ENTERPRISE in person else [])
        response = client.simulate_post(USERS, json={"schemas": schemas, **person})
        assert response.status_code == 201, response.text
        created[person["userName"]] = response.json
        clock.advance(hours=1)
    group = client.simulate_post(
        "/scim/v2/Groups",
        json=group_body("Engineering", members=[created["alice@example.com"]["id"]]),
    ).json
    return created, group


def names(response):
    assert response.status_code == 200, response.text
    return sorted(r["userName"] for r in response.json["Resources"])


ALL = ["BOB@example.com", "Straße", "admin", "alice@example.com", "dora"]
ALICE, BOB, STRASSE, DORA = "alice@example.com", "BOB@example.com", "Straße", "dora"

GRAMMAR = [
    # Simple attributes; caseExact false compares case-insensitively.
    ('userName eq "ALICE@example.com"', [ALICE]),
    ('USERNAME Eq "alice@example.com"', [ALICE]),
    ('userName ne "alice@example.com"', sorted([BOB, STRASSE, "admin", DORA])),
    ('userName sw "bob"', [BOB]),
    ('userName ew "EXAMPLE.COM"', sorted([ALICE, BOB])),
    ('userName co "@"', sorted([ALICE, BOB])),
    ('userName eq "STRASSE"', [STRASSE]),  # casefold: ß is ss
    ('userName gt "c"', sorted([DORA, STRASSE])),
    ('userName le "bob@example.com"', sorted([ALICE, BOB, "admin"])),
    # caseExact true compares exactly.
    ('externalId eq "00uA1"', [ALICE]),
    ('externalId eq "00ua1"', []),
    ('externalId sw "00u"', sorted([ALICE, BOB])),
    # Booleans and presence; "" counts as absent.
    ("active eq false", [BOB]),
    ("active eq true", sorted([ALICE, STRASSE, "admin", DORA])),
    ("title pr", sorted([ALICE, BOB, DORA])),
    ("not (title pr)", sorted([STRASSE, "admin"])),
    ("title eq null", sorted([STRASSE, "admin"])),
    ("title ne null", sorted([ALICE, BOB, DORA])),
    ('title eq "engineer"', sorted([ALICE, DORA])),
    ('title ne "engineer"', [BOB]),  # "" is absent, so it is not "ne" either
    ('not (title eq "engineer")', sorted([BOB, STRASSE, "admin"])),
    # Sub-attributes and multi-valued attributes: any value may match.
    ('name.familyName eq "liddell"', [ALICE]),
    ('emails.value eq "ALICE@home.org"', [ALICE]),
    ('emails.value co "%_"', [STRASSE]),  # LIKE wildcards are literal
    ('emails.type eq "work"', sorted([ALICE, STRASSE])),
    ("emails pr", sorted([ALICE, BOB, STRASSE])),
    ("not (emails pr)", sorted(["admin", DORA])),
    ("emails.primary eq true", [ALICE]),
    ('phoneNumbers.value sw "+1"', [BOB]),
    # Value filters: one value must meet every condition.
    ('emails[type eq "work" and value co "alice"]', [ALICE]),
    ('emails[type eq "home" and value co "example.com"]', [BOB]),
    ('emails[type eq "home"].value ew ".org"', [ALICE]),
    ('emails[not (type eq "work")]', sorted([ALICE, BOB])),
    ('phoneNumbers[type eq "work" and value pr]', [BOB]),
    # Extension attributes, URN-qualified, and core attributes with their URN.
    (f'{ENTERPRISE}:employeeNumber eq "100"', [ALICE]),
    (f'{ENTERPRISE}:manager.value eq "42"', [ALICE]),
    (f'{USER_SCHEMA}:userName eq "dora"', [DORA]),
    (f'schemas eq "{ENTERPRISE}"', [ALICE]),
    # Logic: "and" binds tighter than "or"; grouping changes it.
    (
        'userName eq "dora" or title eq "manager" and active eq false',
        sorted([BOB, DORA]),
    ),
    ('(userName eq "dora" or title eq "manager") and active eq false', [BOB]),
    ('title eq "engineer" and not (userName sw "a")', [DORA]),
    # Common attributes.
    ('meta.resourceType eq "User"', ALL),
    ('meta.resourceType eq "Group"', []),
    ('meta.created ge "2026-01-15T11:30:00Z"', sorted([STRASSE, DORA])),
    (
        'meta.created lt "2026-01-15T11:30:00+01:00"',
        sorted([ALICE, "admin"]),
    ),
    ('meta.lastModified gt "2026-01-15T12:00:00Z"', [DORA]),
]


@pytest.mark.parametrize(("expression", "expected"), GRAMMAR)
def test_filter_grammar(client, people, expression, expected):
    response = client.simulate_get(USERS, params={"filter": expression, "count": 100})

    everyone = client.simulate_get(USERS, params={"count": 100}).json["Resources"]
    oracle = parse_filter(expression, user_type())
    assert names(response) == expected
    assert sorted(r["userName"] for r in everyone if matches(oracle, r)) == expected


def test_filter_on_group_membership(client, people):
    _, group = people

    by_value = client.simulate_get(
        USERS, params={"filter": f'groups.value eq "{group["id"]}"'}
    )
    by_display = client.simulate_get(
        USERS, params={"filter": 'groups.display eq "ENGINEERING"'}
    )

    assert names(by_value) == [ALICE]
    assert names(by_display) == [ALICE]


def test_filter_groups_by_member_and_name(client, people):
    users, group = people
    alice = users[ALICE]["id"]

    by_member = client.simulate_get(
        "/scim/v2/Groups", params={"filter": f'members.value eq "{alice}"'}
    ).json
    by_name = client.simulate_get(
        "/scim/v2/Groups", params={"filter": 'displayName eq "engineering"'}
    ).json
    by_type = client.simulate_get(
        "/scim/v2/Groups", params={"filter": 'members[type eq "user"]'}
    ).json

    # Alice is also a member of the built-in "users", as every user is.
    assert {g["displayName"] for g in by_member["Resources"]} == {
        "Engineering",
        "users",
    }
    assert [g["id"] for g in by_name["Resources"]] == [group["id"]]
    # The built-in groups have user members too.
    assert {g["displayName"] for g in by_type["Resources"]} == {
        "Engineering",
        "admins",
        "users",
    }


def test_id_filters(client, people):
    users, _ = people
    bob = users[BOB]["id"]

    exact = client.simulate_get(USERS, params={"filter": f'id eq "{bob}"'})
    garbage = client.simulate_get(USERS, params={"filter": 'id eq "not-an-id"'})

    assert names(exact) == [BOB]
    assert names(garbage) == []


@pytest.mark.parametrize(
    ("expression", "detail"),
    [
        ('userName eq "x', "syntax error"),
        ('userName eq "x")', "syntax error"),
        ("userName eq", "ends too early"),
        ('userName regex "x"', "syntax error"),
        ('nosuch eq "x"', "unknown attribute 'nosuch'"),
        ('name.nosuch eq "x"', "unknown sub-attribute 'nosuch'"),
        ('urn:example:nope:1.0:User:x eq "1"', "unknown schema"),
        ("active gt true", "'gt' cannot be applied to active"),
        ('active eq "true"', "active is a boolean"),
        ("userName eq 5", "userName is a string"),
        ('meta.created gt "yesterday"', "not a timestamp"),
        ('name eq "x"', "complex"),
        ('password eq "x"', "password cannot be filtered"),
        ('emails[type eq "work"].value', "syntax error"),
        ('title[value eq "x"]', "not a multi-valued complex attribute"),
        ('emails[phoneNumbers[type eq "x"]]', "cannot be nested"),
        ("title gt null", "meaningless"),
        ("(" * 40 + "title pr" + ")" * 40, "nests deeper"),
        ("title pr and " * 400 + "title pr", "longer than"),
    ],
)
def test_invalid_filters_are_400_invalid_filter(client, expression, detail):
    response = client.simulate_get(USERS, params={"filter": expression})

    assert response.status_code == 400, response.text
    assert response.json["scimType"] == "invalidFilter"
    assert detail in response.json["detail"]


def test_a_blank_filter_parameter_filters_nothing(client, people):
    response = client.simulate_get(USERS, params={"filter": "  "})

    assert names(response) == ALL


class TestSorting:
    def test_sort_by_title_ascending_puts_absent_values_last(self, client, people):
        response = client.simulate_get(
            USERS, params={"sortBy": "title", "count": 100}
        ).json

        order = [r["userName"] for r in response["Resources"]]
        # "" sorts as a value; users without a title come last.
        # Alice and Dora tie on "engineer"; ties are broken by id.
        assert order[0] == STRASSE
        assert set(order[1:3]) == {ALICE, DORA}
        assert order[3] == BOB
        assert order[4:] == ["admin"]

    def test_sort_descending_puts_absent_values_first(self, client, people):
        response = client.simulate_get(
            USERS,
            params={"sortBy": "name.familyName", "sortOrder": "descending"},
        ).json

        order = [r["userName"] for r in response["Resources"]]
        assert order[-1] == ALICE

    def test_sort_is_case_insensitive_for_case_insensitive_attributes(
        self, client, people
    ):
        response = client.simulate_get(USERS, params={"sortBy": "userName"}).json

        order = [r["userName"] for r in response["Resources"]]
        assert order == ["admin", ALICE, BOB, DORA, STRASSE]

    def test_sort_by_extension_attribute_and_meta(self, client, people):
        by_number = client.simulate_get(
            USERS, params={"sortBy": f"{ENTERPRISE}:employeeNumber"}
        ).json
        by_created = client.simulate_get(
            USERS, params={"sortBy": "meta.created", "sortOrder": "descending"}
        ).json

        assert by_number["Resources"][0]["userName"] == ALICE
        assert by_created["Resources"][0]["userName"] == DORA

    @pytest.mark.parametrize(
        ("params", "detail"),
        [
            ({"sortBy": "emails"}, "name one of its sub-attributes"),
            ({"sortBy": "name"}, "name one of its sub-attributes"),
            ({"sortBy": "nosuch"}, "unknown attribute"),
            ({"sortBy": "userName", "sortOrder": "sideways"}, "sortOrder"),
        ],
    )
    def test_bad_sort_parameters_are_invalid_value(self, client, params, detail):
        response = client.simulate_get(USERS, params=params)

        assert response.status_code == 400
        assert response.json["scimType"] == "invalidValue"
        assert detail in response.json["detail"]


class TestSearch:
    def test_post_search_has_the_semantics_of_get(self, client, people):
        request = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'title eq "engineer"',
            "sortBy": "userName",
            "sortOrder": "descending",
            "attributes": ["userName"],
            "startIndex": 1,
            "count": 1,
        }

        response = client.simulate_post(f"{USERS}/.search", json=request)

        assert response.status_code == 200
        assert response.json["totalResults"] == 2
        assert response.json["Resources"] == [
            {
                "schemas": [USER_SCHEMA],
                "id": people[0][DORA]["id"],
                "userName": DORA,
            }
        ]

    def test_search_on_groups(self, client, people):
        response = client.simulate_post(
            "/scim/v2/Groups/.search",
            json={"filter": 'displayName sw "eng"', "excludedAttributes": ["members"]},
        )

        assert [g["displayName"] for g in response.json["Resources"]] == ["Engineering"]
        assert "members" not in response.json["Resources"][0]

    @pytest.mark.parametrize(
        "body", [{"count": "ten"}, {"filter": 5}, {"attributes": [1]}, []]
    )
    def test_malformed_search_requests_are_refused(self, client, body):
        response = client.simulate_post(f"{USERS}/.search", json=body)

        assert response.status_code == 400
        assert response.json["scimType"] in {"invalidValue", "invalidSyntax"}


@pytest.mark.parametrize(
    "expression",
    ['meta.version eq "W/\\"1\\""', "groups.$ref pr", 'meta.location sw "h"'],
)
def test_filters_storage_cannot_evaluate_are_400_invalid_filter(client, expression):
    response = client.simulate_get(USERS, params={"filter": expression})

    assert response.status_code == 400, response.text
    assert response.json["scimType"] == "invalidFilter"


class TestSortingByMultiValuedAttributes:
    """RFC 7644 §3.4.2.3: by the primary value if there is one, else the first."""

    @pytest.fixture
    def mailboxes(self, client):
        bodies = [
            user_body(
                "one",
                emails=[
                    {"value": "z@example.com"},
                    {"value": "B@example.com", "primary": True},
                ],
            ),
            user_body("two", emails=[{"value": "c@example.com"}, {"value": "a@x.org"}]),
            user_body("three", emails=[]),
        ]
        for body in bodies:
            assert client.simulate_post(USERS, json=body).status_code == 201

    @pytest.mark.parametrize(
        ("order", "expected"),
        [
            # admin has no email either: absent values sort last ascending.
            ("ascending", ["one", "two"]),
            ("descending", ["two", "one"]),
        ],
    )
    def test_primary_else_first_value(self, client, mailboxes, order, expected):
        response = client.simulate_get(
            USERS, params={"sortBy": "emails.value", "sortOrder": order}
        )

        found = [resource["userName"] for resource in response.json["Resources"]]
        with_email = [name for name in found if name in {"one", "two"}]
        assert with_email == expected
        if order == "ascending":
            assert set(found[-2:]) == {"admin", "three"}
        else:
            assert set(found[:2]) == {"admin", "three"}

    def test_cursor_pages_follow_the_same_order(self, client, mailboxes):
        params = {"sortBy": "emails.value", "count": "1", "cursor": ""}
        seen = []
        while True:
            page = client.simulate_get(USERS, params=params).json
            seen += [resource["userName"] for resource in page["Resources"]]
            if "nextCursor" not in page:
                break
            params["cursor"] = page["nextCursor"]
        whole = client.simulate_get(
            USERS, params={"sortBy": "emails.value", "count": "10"}
        ).json
        assert seen == [resource["userName"] for resource in whole["Resources"]]

    def test_memberships_cannot_be_sorted_by(self, client):
        response = client.simulate_get(USERS, params={"sortBy": "groups.value"})

        assert response.status_code == 400
