"""/Users through the Falcon app (RFC 7644 §3.3-§3.6), on both databases."""

from __future__ import annotations

import itertools

import pytest

from scim_server.schema import ENTERPRISE_USER_SCHEMA, USER_SCHEMA
from storage import users as user_store
from tests.factories import enterprise_user_body, group_body, user_body

USERS = "/scim/v2/Users"


def create(client, body):
    response = client.simulate_post(USERS, json=body)
    assert response.status_code == 201, response.text
    return response.json


def test_create_returns_resource_location_and_etag(client):
    response = client.simulate_post(USERS, json=user_body("bjensen@example.com"))

    resource = response.json
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/scim+json"
    assert response.headers["location"] == resource["meta"]["location"]
    assert response.headers["etag"] == resource["meta"]["version"]
    assert resource["meta"]["location"] == (
        f"https://scim.example.com/scim/v2/Users/{resource['id']}"
    )
    assert resource["meta"]["resourceType"] == "User"
    assert resource["meta"]["created"] == "2026-01-15T09:30:00.000Z"
    assert resource["meta"]["lastModified"] == resource["meta"]["created"]
    assert resource["userName"] == "bjensen@example.com"


def test_ids_are_random_positive_63_bit_decimal_strings(client):
    ids = [create(client, user_body())["id"] for _ in range(5)]

    assert len(set(ids)) == 5
    for value in ids:
        assert value.isdigit()
        assert 0 < int(value) < 2**63
    # Random, not sequential: consecutive ids are far apart.
    assert all(abs(int(a) - int(b)) > 1000 for a, b in itertools.pairwise(ids))


def test_get_returns_what_create_returned(client):
    created = create(client, enterprise_user_body(employeeNumber="42"))

    fetched = client.simulate_get(f"{USERS}/{created['id']}")

    assert fetched.status_code == 200
    assert fetched.json == created
    assert fetched.headers["etag"] == created["meta"]["version"]
    assert fetched.json["schemas"] == [USER_SCHEMA, ENTERPRISE_USER_SCHEMA]


@pytest.mark.parametrize("user_id", ["1", "abc", "-5", "99999999999999999999", "1.0"])
def test_unknown_or_malformed_id_is_404(client, user_id):
    response = client.simulate_get(f"{USERS}/{user_id}")

    assert response.status_code == 404
    assert response.json["status"] == "404"
    assert response.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


@pytest.mark.parametrize(
    "second_name",
    ["bjensen@example.com", "BJensen@Example.COM", "BJENSEN@EXAMPLE.COM"],
)
def test_user_name_is_unique_case_insensitively(client, second_name):
    create(client, user_body("bjensen@example.com"))

    response = client.simulate_post(USERS, json=user_body(second_name))

    assert response.status_code == 409
    assert response.json["scimType"] == "uniqueness"
    assert response.json["status"] == "409"


def test_unicode_user_names_fold_the_same_way_on_every_backend(client):
    create(client, user_body("STRASSE"))

    response = client.simulate_post(USERS, json=user_body("straße"))

    assert response.status_code == 409


def test_external_id_is_kept_case_exactly(client):
    created = create(client, user_body(externalId="00uAbC123"))

    fetched = client.simulate_get(f"{USERS}/{created['id']}").json

    assert fetched["externalId"] == "00uAbC123"


def test_okta_create_with_password_and_empty_groups(client, db):
    # Okta sends a clear-text password and "groups": [] on create.
    body = user_body(password="Sup3r-secret!", groups=[])

    created = create(client, body)

    assert "password" not in created
    # Only the implicit membership of the built-in group "users".
    assert [group["display"] for group in created["groups"]] == ["users"]
    stored = user_store.password_hash_of(int(created["id"]))
    assert stored is not None
    assert stored.startswith("scrypt$")
    assert "Sup3r-secret!" not in stored


def test_password_never_appears_even_when_asked_for(client):
    created = create(client, user_body(password="pw-123456"))

    fetched = client.simulate_get(
        f"{USERS}/{created['id']}", params={"attributes": "password,userName"}
    )

    assert set(fetched.json) == {"schemas", "id", "userName"}


def test_put_replaces_writable_attributes_and_clears_omitted_ones(client, clock):
    created = create(client, user_body(displayName="Babs", title="Engineer"))
    body = user_body(created["userName"], displayName="Barbara")
    body.update(id=created["id"], meta={"version": "whatever"})
    clock.advance(minutes=5)

    replaced = client.simulate_put(f"{USERS}/{created['id']}", json=body)

    assert replaced.status_code == 200
    assert replaced.json["displayName"] == "Barbara"
    assert "title" not in replaced.json
    assert replaced.json["meta"]["created"] == created["meta"]["created"]
    assert replaced.json["meta"]["lastModified"] == "2026-01-15T09:35:00.000Z"
    assert replaced.json["meta"]["version"] != created["meta"]["version"]
    assert replaced.headers["etag"] == replaced.json["meta"]["version"]


def test_put_keeps_password_when_body_has_none(client):
    created = create(client, user_body(password="first-password"))
    before = user_store.password_hash_of(int(created["id"]))

    client.simulate_put(f"{USERS}/{created['id']}", json=user_body(created["userName"]))

    assert user_store.password_hash_of(int(created["id"])) == before


def test_put_with_another_id_in_the_body_is_refused(client):
    created = create(client, user_body())
    body = user_body(created["userName"], id="12345")

    response = client.simulate_put(f"{USERS}/{created['id']}", json=body)

    assert response.status_code == 400
    assert response.json["scimType"] == "invalidValue"


def test_put_cannot_take_another_users_name(client):
    first = create(client, user_body("first@example.com"))
    second = create(client, user_body("second@example.com"))

    response = client.simulate_put(
        f"{USERS}/{second['id']}", json=user_body("FIRST@example.com")
    )

    assert response.status_code == 409
    assert first["userName"] == "first@example.com"


def test_put_on_unknown_user_is_404(client):
    response = client.simulate_put(f"{USERS}/123", json=user_body())

    assert response.status_code == 404


def test_delete_then_get_is_404_and_id_is_never_reused(client):
    created = create(client, user_body())

    deleted = client.simulate_delete(f"{USERS}/{created['id']}")
    again = client.simulate_delete(f"{USERS}/{created['id']}")
    fetched = client.simulate_get(f"{USERS}/{created['id']}")

    assert deleted.status_code == 204
    assert deleted.text == ""
    assert again.status_code == 404
    assert fetched.status_code == 404


def test_deleting_a_user_removes_it_from_groups(client):
    user = create(client, user_body())
    group = client.simulate_post(
        "/scim/v2/Groups", json=group_body(members=[user["id"]])
    ).json

    client.simulate_delete(f"{USERS}/{user['id']}")

    fetched = client.simulate_get(f"/scim/v2/Groups/{group['id']}").json
    assert "members" not in fetched


def test_groups_attribute_lists_direct_memberships(client):
    user = create(client, user_body())
    group = client.simulate_post(
        "/scim/v2/Groups", json=group_body("Engineering", members=[user["id"]])
    ).json

    fetched = client.simulate_get(f"{USERS}/{user['id']}").json

    everyone = client.simulate_get(
        "/scim/v2/Groups", params={"filter": 'displayName eq "users"'}
    ).json["Resources"][0]
    assert fetched["groups"] == [
        {
            "value": group["id"],
            "$ref": f"https://scim.example.com/scim/v2/Groups/{group['id']}",
            "display": "Engineering",
            "type": "direct",
        },
        # Every user belongs to the built-in group "users" without a row.
        {
            "value": everyone["id"],
            "$ref": f"https://scim.example.com/scim/v2/Groups/{everyone['id']}",
            "display": "users",
            "type": "direct",
        },
    ]


class TestList:
    def test_pages_cover_every_user_once_in_a_stable_order(self, client, clock):
        for _ in range(7):
            create(client, user_body())
            clock.advance(seconds=1)

        pages = [
            client.simulate_get(USERS, params={"startIndex": start, "count": 3}).json
            for start in (1, 4, 7)
        ]

        ids = [r["id"] for page in pages for r in page["Resources"]]
        everyone = client.simulate_get(USERS).json
        assert [page["itemsPerPage"] for page in pages] == [3, 3, 2]
        assert [page["startIndex"] for page in pages] == [1, 4, 7]
        # 7 created plus the admin made by init.
        assert all(page["totalResults"] == 8 for page in pages)
        assert ids == [r["id"] for r in everyone["Resources"]][:8][: len(ids)]
        assert len(set(ids)) == 8

    def test_count_zero_returns_only_the_total(self, client):
        create(client, user_body())

        page = client.simulate_get(USERS, params={"count": "0"}).json

        assert page["totalResults"] == 2
        assert page["itemsPerPage"] == 0
        assert page["Resources"] == []

    def test_count_above_the_cap_is_lowered_not_refused(self, client, settings):
        # The Databricks SDK asks for count=10000.
        page = client.simulate_get(USERS, params={"count": "10000"})

        assert page.status_code == 200
        assert page.json["itemsPerPage"] == 1

    def test_start_index_past_the_end_returns_an_empty_page(self, client):
        page = client.simulate_get(USERS, params={"startIndex": "500"}).json

        assert page["Resources"] == []
        assert page["totalResults"] == 1
        assert page["startIndex"] == 500

    @pytest.mark.parametrize(
        ("params", "start", "items"),
        [
            ({"startIndex": "0"}, 1, 1),
            ({"startIndex": "-3"}, 1, 1),
            ({"count": "-1"}, 1, 0),
        ],
    )
    def test_out_of_range_values_are_read_as_the_rfc_says(
        self, client, params, start, items
    ):
        page = client.simulate_get(USERS, params=params).json

        assert page["startIndex"] == start
        assert page["itemsPerPage"] == items

    @pytest.mark.parametrize("params", [{"count": "ten"}, {"startIndex": "1.5"}])
    def test_non_integer_paging_is_invalid_value(self, client, params):
        response = client.simulate_get(USERS, params=params)

        assert response.status_code == 400
        assert response.json["scimType"] == "invalidValue"

    def test_a_page_costs_a_fixed_number_of_queries(self, client, sql):
        for _ in range(30):
            create(client, user_body())

        def queries_for(count: int) -> int:
            with sql.capture() as statements:
                response = client.simulate_get(USERS, params={"count": count})
            assert response.json["itemsPerPage"] == count
            return len(statements)

        # Token check, count, page, groups of the page: no query per user.
        assert queries_for(5) == queries_for(30) == 4


class TestProjection:
    def test_attributes_selects_sub_attributes(self, client):
        created = create(client, user_body())

        fetched = client.simulate_get(
            f"{USERS}/{created['id']}", params={"attributes": "name.familyName"}
        ).json

        assert fetched == {
            "schemas": created["schemas"],
            "id": created["id"],
            "name": {"familyName": created["name"]["familyName"]},
        }

    def test_excluded_attributes_drops_them_and_skips_the_groups_query(
        self, client, sql
    ):
        created = create(client, user_body())
        url = f"{USERS}/{created['id']}"

        def queries_for(params):
            with sql.capture() as statements:
                response = client.simulate_get(url, params=params)
            return response.json, len(statements)

        fetched, excluded_queries = queries_for(
            {"excludedAttributes": "groups,emails,meta"}
        )
        _, full_queries = queries_for({})

        assert "emails" not in fetched
        assert "meta" not in fetched
        assert fetched["userName"] == created["userName"]
        assert full_queries - excluded_queries == 1

    def test_urn_qualified_extension_attribute(self, client):
        created = create(
            client, enterprise_user_body(employeeNumber="7", costCenter="X")
        )

        fetched = client.simulate_get(
            f"{USERS}/{created['id']}",
            params={"attributes": f"{ENTERPRISE_USER_SCHEMA}:employeeNumber"},
        ).json

        assert fetched[ENTERPRISE_USER_SCHEMA] == {"employeeNumber": "7"}
        assert "userName" not in fetched

    def test_list_applies_the_projection_to_every_resource(self, client):
        create(client, user_body())

        page = client.simulate_get(USERS, params={"attributes": "userName"}).json

        assert all(set(r) == {"schemas", "id", "userName"} for r in page["Resources"])
