"""PATCH on /Users and /Groups (RFC 7644 §3.5.2), on both databases.

The first part follows the RFC rule by rule; the second replays the request
shapes that identity providers send, one named case each.
"""

from __future__ import annotations

import pytest

from scim_server.schema import ENTERPRISE_USER_SCHEMA, USER_SCHEMA
from tests.factories import enterprise_user_body, group_body, user_body
from tests.test_protocol_api import assert_scim_error

USERS = "/scim/v2/Users"
GROUPS = "/scim/v2/Groups"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def patch_body(*operations):
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def create(client, endpoint, body):
    response = client.simulate_post(endpoint, json=body)
    assert response.status_code == 201, response.text
    return response.json


def patch(client, resource, *operations, params=None, status=200):
    endpoint = USERS if resource["meta"]["resourceType"] == "User" else GROUPS
    response = client.simulate_patch(
        f"{endpoint}/{resource['id']}", json=patch_body(*operations), params=params
    )
    assert response.status_code == status, response.text
    return response


def patch_user(client, user, *operations):
    return patch(client, user, *operations).json


def read(client, resource):
    endpoint = USERS if resource["meta"]["resourceType"] == "User" else GROUPS
    response = client.simulate_get(f"{endpoint}/{resource['id']}")
    assert response.status_code == 200, response.text
    return response.json


def member_ids(client, group):
    return sorted(member["value"] for member in read(client, group).get("members", []))


@pytest.fixture
def user(client):
    return create(
        client,
        USERS,
        user_body(
            "bjensen@example.com",
            emails=[
                {"value": "bjensen@example.com", "type": "work", "primary": True},
                {"value": "babs@jensen.org", "type": "home"},
            ],
            phoneNumbers=[{"value": "555-555-8377", "type": "work"}],
        ),
    )


class TestPatchUsers:
    def test_add_replace_and_remove_a_simple_attribute(self, client, user):
        added = patch_user(
            client, user, {"op": "add", "path": "title", "value": "Boss"}
        )
        assert added["title"] == "Boss"
        replaced = patch_user(
            client, user, {"op": "replace", "path": "title", "value": "Chief"}
        )
        assert replaced["title"] == "Chief"
        removed = patch_user(client, user, {"op": "remove", "path": "title"})
        assert "title" not in removed
        assert "title" not in read(client, user)

    def test_response_is_the_resource_with_a_new_version_and_etag(self, client, user):
        response = patch(client, user, {"op": "add", "path": "nickName", "value": "B"})

        assert response.json["meta"]["version"] != user["meta"]["version"]
        assert response.headers["etag"] == response.json["meta"]["version"]
        assert response.json == read(client, user)

    def test_attributes_on_the_request_shape_the_response(self, client, user):
        response = patch(
            client,
            user,
            {"op": "add", "path": "nickName", "value": "B"},
            params={"attributes": "nickName"},
        )

        assert set(response.json) == {"schemas", "id", "nickName"}

    def test_sub_attribute_of_a_complex_attribute(self, client, user):
        patched = patch_user(
            client, user, {"op": "replace", "path": "name.familyName", "value": "Doe"}
        )

        assert patched["name"] == {"givenName": "Test", "familyName": "Doe"}

    def test_replace_of_a_complex_attribute_merges_its_sub_attributes(
        self, client, user
    ):
        patched = patch_user(
            client, user, {"op": "replace", "path": "name", "value": {"formatted": "T"}}
        )

        assert patched["name"]["formatted"] == "T"
        assert patched["name"]["givenName"] == "Test"

    def test_add_to_a_multi_valued_attribute_appends_and_skips_duplicates(
        self, client, user
    ):
        patched = patch_user(
            client,
            user,
            {
                "op": "add",
                "path": "emails",
                "value": [
                    {"value": "babs@jensen.org", "type": "home"},
                    {"value": "b@other.org", "type": "other"},
                ],
            },
        )

        assert [email["value"] for email in patched["emails"]] == [
            "bjensen@example.com",
            "babs@jensen.org",
            "b@other.org",
        ]

    def test_replace_of_a_multi_valued_attribute_replaces_every_value(
        self, client, user
    ):
        patched = patch_user(
            client,
            user,
            {"op": "replace", "path": "emails", "value": [{"value": "new@x.org"}]},
        )

        assert patched["emails"] == [{"value": "new@x.org"}]

    def test_value_filter_touches_only_matching_values(self, client, user):
        patched = patch_user(
            client,
            user,
            {
                "op": "replace",
                "path": 'emails[type eq "home"].value',
                "value": "babs@home.org",
            },
        )

        assert patched["emails"] == [
            {"value": "bjensen@example.com", "type": "work", "primary": True},
            {"value": "babs@home.org", "type": "home"},
        ]

    def test_remove_with_a_value_filter_removes_only_matching_values(
        self, client, user
    ):
        patched = patch_user(
            client, user, {"op": "remove", "path": 'emails[type eq "work"]'}
        )

        assert patched["emails"] == [{"value": "babs@jensen.org", "type": "home"}]

    def test_filter_compares_case_insensitively_where_the_schema_says(
        self, client, user
    ):
        patched = patch_user(
            client,
            user,
            {"op": "remove", "path": 'EMAILS[VALUE eq "BABS@JENSEN.ORG"]'},
        )

        assert [email["value"] for email in patched["emails"]] == [
            "bjensen@example.com"
        ]

    def test_remove_without_a_filter_clears_the_attribute(self, client, user):
        patched = patch_user(client, user, {"op": "remove", "path": "phoneNumbers"})

        assert "phoneNumbers" not in patched

    def test_primary_on_one_value_clears_it_on_the_others(self, client, user):
        patched = patch_user(
            client,
            user,
            {
                "op": "replace",
                "path": 'emails[type eq "home"].primary',
                "value": True,
            },
        )

        primaries = [email for email in patched["emails"] if email.get("primary")]
        assert primaries == [
            {"value": "babs@jensen.org", "type": "home", "primary": True}
        ]

    def test_added_primary_value_takes_primary_from_the_others(self, client, user):
        patched = patch_user(
            client,
            user,
            {
                "op": "add",
                "path": "emails",
                "value": [{"value": "new@x.org", "type": "other", "primary": True}],
            },
        )

        assert [e["value"] for e in patched["emails"] if e.get("primary")] == [
            "new@x.org"
        ]

    def test_core_attribute_with_its_urn(self, client, user):
        patched = patch_user(
            client,
            user,
            {"op": "replace", "path": f"{USER_SCHEMA}:displayName", "value": "Babs"},
        )

        assert patched["displayName"] == "Babs"

    def test_extension_attributes(self, client):
        user = create(client, USERS, enterprise_user_body(employeeNumber="1"))

        patched = patch_user(
            client,
            user,
            {
                "op": "replace",
                "path": f"{ENTERPRISE_USER_SCHEMA}:employeeNumber",
                "value": "2",
            },
            {
                "op": "add",
                "path": f"{ENTERPRISE_USER_SCHEMA}:manager.value",
                "value": "42",
            },
        )

        assert patched[ENTERPRISE_USER_SCHEMA] == {
            "employeeNumber": "2",
            "manager": {"value": "42"},
        }
        removed = patch_user(
            client, user, {"op": "remove", "path": ENTERPRISE_USER_SCHEMA}
        )
        assert ENTERPRISE_USER_SCHEMA not in removed
        assert removed["schemas"] == [USER_SCHEMA]

    def test_no_path_add_sets_each_attribute_of_the_value(self, client, user):
        patched = patch_user(
            client,
            user,
            {
                "op": "add",
                "value": {
                    "nickName": "Babs",
                    "emails": [{"value": "third@x.org"}],
                    ENTERPRISE_USER_SCHEMA: {"department": "Tour Operations"},
                },
            },
        )

        assert patched["nickName"] == "Babs"
        assert len(patched["emails"]) == 3
        assert patched[ENTERPRISE_USER_SCHEMA] == {"department": "Tour Operations"}
        assert ENTERPRISE_USER_SCHEMA in patched["schemas"]

    def test_password_is_set_and_never_returned(self, client, user, db):
        from storage.users import password_hash_of

        patched = patch_user(
            client, user, {"op": "replace", "path": "password", "value": "s3cret!"}
        )

        assert "password" not in patched
        stored = password_hash_of(int(user["id"]))
        assert stored is not None and "s3cret!" not in stored

    def test_a_patch_that_changes_nothing_keeps_the_version(self, client, user):
        response = patch(
            client,
            user,
            {"op": "add", "path": "emails", "value": [user["emails"][1]]},
        )

        assert response.json["meta"] == user["meta"]
        assert response.headers["etag"] == user["meta"]["version"]

    def test_operations_apply_in_order(self, client, user):
        patched = patch_user(
            client,
            user,
            {"op": "add", "path": "title", "value": "One"},
            {"op": "remove", "path": "title"},
            {"op": "add", "path": "nickName", "value": "Two"},
        )

        assert "title" not in patched
        assert patched["nickName"] == "Two"

    def test_removing_active_unassigns_it_without_deactivating(self, client, user):
        patched = patch_user(client, user, {"op": "remove", "path": "active"})

        assert "active" not in patched
        found = client.simulate_get(USERS, params={"filter": "active eq true"}).json
        assert user["id"] in [resource["id"] for resource in found["Resources"]]

    def test_string_booleans_and_capitalised_ops(self, client, user):
        patched = patch_user(
            client, user, {"op": "Replace", "path": "active", "value": "False"}
        )

        assert patched["active"] is False


class TestPatchErrors:
    @pytest.mark.parametrize(
        ("operation", "scim_type"),
        [
            ({"op": "remove"}, "noTarget"),
            ({"op": "add", "path": "nope", "value": 1}, "invalidPath"),
            ({"op": "add", "path": "name.nope", "value": 1}, "invalidPath"),
            ({"op": "add", "path": "title[type eq 1]", "value": 1}, "invalidPath"),
            ({"op": "add", "path": 'emails[type eq "work"', "value": 1}, "invalidPath"),
            ({"op": "replace", "path": "id", "value": "1"}, "mutability"),
            ({"op": "replace", "path": "meta.created", "value": "x"}, "mutability"),
            ({"op": "add", "path": "groups", "value": [{"value": "1"}]}, "mutability"),
            ({"op": "remove", "path": "userName"}, "mutability"),
            ({"op": "replace", "path": "userName", "value": None}, "invalidValue"),
            ({"op": "replace", "path": "active", "value": "maybe"}, "invalidValue"),
            ({"op": "replace", "path": "emails", "value": "x"}, "invalidValue"),
            ({"op": "add", "path": "title"}, "invalidValue"),
            ({"op": "replace", "value": "not an object"}, "invalidValue"),
            ({"op": "move", "path": "title", "value": "x"}, "invalidSyntax"),
            (
                {
                    "op": "replace",
                    "path": 'emails[type eq "work" or type eq "home"].value',
                    "value": "x",
                },
                None,
            ),
        ],
    )
    def test_bad_operation_is_refused_and_nothing_changes(
        self, client, user, operation, scim_type
    ):
        response = client.simulate_patch(
            f"{USERS}/{user['id']}",
            json=patch_body({"op": "add", "path": "title", "value": "T"}, operation),
        )

        if scim_type is None:
            # The filter matches both emails; setting both is legitimate.
            assert response.status_code == 200, response.text
            return
        assert_scim_error(response, 400, scim_type)
        assert read(client, user) == user

    def test_replace_whose_filter_matches_nothing_and_cannot_create_is_no_target(
        self, client, user
    ):
        response = client.simulate_patch(
            f"{USERS}/{user['id']}",
            json=patch_body(
                {"op": "replace", "path": 'emails[value co "zzz"].type', "value": "x"}
            ),
        )

        assert_scim_error(response, 400, "noTarget")

    @pytest.mark.parametrize(
        "body",
        [
            {"Operations": [{"op": "add", "path": "title", "value": "x"}]},
            {"schemas": [PATCH_OP]},
            {"schemas": [PATCH_OP], "Operations": []},
            {"schemas": [PATCH_OP], "Operations": ["add"]},
            [],
        ],
    )
    def test_malformed_request_is_invalid_syntax(self, client, user, body):
        response = client.simulate_patch(f"{USERS}/{user['id']}", json=body)

        assert_scim_error(response, 400, "invalidSyntax")

    def test_unknown_resource_is_404(self, client):
        response = client.simulate_patch(
            f"{USERS}/12345",
            json=patch_body({"op": "add", "path": "title", "value": "x"}),
        )

        assert_scim_error(response, 404)

    def test_duplicate_user_name_is_409(self, client, user):
        create(client, USERS, user_body("taken@example.com"))

        response = client.simulate_patch(
            f"{USERS}/{user['id']}",
            json=patch_body(
                {"op": "replace", "path": "userName", "value": "TAKEN@example.com"}
            ),
        )

        assert_scim_error(response, 409, "uniqueness")


class TestPatchGroups:
    @pytest.fixture
    def people(self, client):
        return [create(client, USERS, user_body()) for _ in range(3)]

    def test_add_members_answers_204_and_adds_rows(self, client, people):
        group = create(client, GROUPS, group_body("Team", members=[people[0]["id"]]))

        response = patch(
            client,
            group,
            {"op": "add", "path": "members", "value": [{"value": people[1]["id"]}]},
            status=204,
        )

        assert response.headers["etag"] != group["meta"]["version"]
        assert member_ids(client, group) == sorted([people[0]["id"], people[1]["id"]])

    def test_asking_for_attributes_returns_the_group(self, client, people):
        group = create(client, GROUPS, group_body("Team"))

        response = patch(
            client,
            group,
            {"op": "add", "path": "members", "value": [{"value": people[0]["id"]}]},
            params={"excludedAttributes": "members"},
        )

        assert response.json["displayName"] == "Team"
        assert "members" not in response.json
        assert response.headers["etag"] == response.json["meta"]["version"]

    def test_adding_an_existing_member_changes_nothing_but_the_version(
        self, client, people
    ):
        group = create(client, GROUPS, group_body("Team", members=[people[0]["id"]]))

        patch(
            client,
            group,
            {"op": "add", "path": "members", "value": [{"value": people[0]["id"]}]},
            status=204,
        )

        assert member_ids(client, group) == [people[0]["id"]]

    def test_remove_member_by_filter(self, client, people):
        ids = [person["id"] for person in people]
        group = create(client, GROUPS, group_body("Team", members=ids))

        patch(
            client,
            group,
            {"op": "remove", "path": f'members[value eq "{ids[1]}"]'},
            status=204,
        )

        assert member_ids(client, group) == sorted([ids[0], ids[2]])

    def test_remove_members_by_a_filter_on_type(self, client, people):
        inner = create(client, GROUPS, group_body("Inner"))
        group = create(
            client, GROUPS, group_body("Team", members=[people[0]["id"], inner["id"]])
        )

        patch(
            client,
            group,
            {"op": "remove", "path": 'members[type eq "Group"]'},
            status=204,
        )

        assert member_ids(client, group) == [people[0]["id"]]

    def test_remove_all_members(self, client, people):
        group = create(
            client, GROUPS, group_body("Team", members=[p["id"] for p in people])
        )

        patch(client, group, {"op": "remove", "path": "members"}, status=204)

        assert member_ids(client, group) == []

    def test_replace_members(self, client, people):
        group = create(client, GROUPS, group_body("Team", members=[people[0]["id"]]))

        patch(
            client,
            group,
            {
                "op": "replace",
                "path": "members",
                "value": [{"value": people[1]["id"]}, {"value": people[2]["id"]}],
            },
            status=204,
        )

        assert member_ids(client, group) == sorted([people[1]["id"], people[2]["id"]])

    def test_unknown_member_is_invalid_value_and_nothing_changes(self, client, people):
        group = create(client, GROUPS, group_body("Team"))

        response = client.simulate_patch(
            f"{GROUPS}/{group['id']}",
            json=patch_body(
                {"op": "replace", "path": "displayName", "value": "Renamed"},
                {"op": "add", "path": "members", "value": [{"value": "999"}]},
            ),
        )

        assert_scim_error(response, 400, "invalidValue")
        assert "999" in response.json["detail"]
        assert read(client, group)["displayName"] == "Team"

    def test_a_group_cannot_join_itself(self, client):
        group = create(client, GROUPS, group_body("Team"))

        response = client.simulate_patch(
            f"{GROUPS}/{group['id']}",
            json=patch_body(
                {"op": "add", "path": "members", "value": [{"value": group["id"]}]}
            ),
        )

        assert_scim_error(response, 400, "invalidValue")

    def test_rename_to_a_taken_name_is_409(self, client):
        create(client, GROUPS, group_body("Taken"))
        group = create(client, GROUPS, group_body("Team"))

        response = client.simulate_patch(
            f"{GROUPS}/{group['id']}",
            json=patch_body({"op": "replace", "path": "displayName", "value": "TAKEN"}),
        )

        assert_scim_error(response, 409, "uniqueness")

    def test_builtin_group_cannot_be_renamed(self, client):
        admins = client.simulate_get(
            GROUPS, params={"filter": 'displayName eq "admins"'}
        ).json["Resources"][0]

        response = client.simulate_patch(
            f"{GROUPS}/{admins['id']}",
            json=patch_body({"op": "replace", "path": "displayName", "value": "x"}),
        )

        assert_scim_error(response, 400, "mutability")

    def test_member_sub_attributes_cannot_be_patched(self, client, people):
        group = create(client, GROUPS, group_body("Team", members=[people[0]["id"]]))

        response = client.simulate_patch(
            f"{GROUPS}/{group['id']}",
            json=patch_body(
                {
                    "op": "replace",
                    "path": f'members[value eq "{people[0]["id"]}"].value',
                    "value": people[1]["id"],
                }
            ),
        )

        assert_scim_error(response, 400, "invalidPath")

    def test_adding_one_member_does_not_read_the_others(self, client, people, sql):
        group = create(client, GROUPS, group_body("Team", members=[people[0]["id"]]))

        with sql.capture() as statements:
            patch(
                client,
                group,
                {"op": "add", "path": "members", "value": [{"value": people[1]["id"]}]},
                status=204,
            )

        # Reading members means selecting member ids from the membership
        # table, alone or joined to names; the token check's EXISTS does not.
        member_reads = [
            s
            for s in statements
            if '"member_id" FROM "membership"' in s or "COALESCE" in s
        ]
        assert member_reads == []
        assert any('INTO "membership"' in s for s in statements)


class TestIdentityProviderDialects:
    """Request shapes from the providers' documentation and issue trackers."""

    def test_entra_replace_work_email_and_family_name(self, client, user):
        patched = patch_user(
            client,
            user,
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "updated@example.com",
            },
            {"op": "Replace", "path": "name.familyName", "value": "Updated"},
        )

        assert patched["emails"][0] == {
            "value": "updated@example.com",
            "type": "work",
            "primary": True,
        }
        assert patched["name"]["familyName"] == "Updated"

    def test_entra_disable_user_with_a_string_boolean(self, client, user):
        patched = patch_user(
            client, user, {"op": "Replace", "path": "active", "value": "False"}
        )

        assert patched["active"] is False

    def test_entra_manager_as_a_bare_string(self, client, user):
        patched = patch_user(
            client,
            user,
            {
                "op": "Add",
                "path": f"{ENTERPRISE_USER_SCHEMA}:manager",
                "value": "2819c223",
            },
        )

        assert patched[ENTERPRISE_USER_SCHEMA]["manager"] == {"value": "2819c223"}

    def test_entra_manager_by_its_bare_name_with_a_list_of_one(self, client, user):
        patched = patch_user(
            client,
            user,
            {
                "op": "Add",
                "path": "manager",
                "value": [{"$ref": None, "value": "2819c223"}],
            },
        )

        assert patched[ENTERPRISE_USER_SCHEMA]["manager"] == {"value": "2819c223"}
        assert ENTERPRISE_USER_SCHEMA in patched["schemas"]

    def test_entra_no_path_replace_with_dotted_and_urn_keys(self, client, user):
        patched = patch_user(
            client,
            user,
            {
                "op": "Replace",
                "value": {
                    "displayName": "Babs J",
                    "name.givenName": "Barbara",
                    f"{ENTERPRISE_USER_SCHEMA}:employeeNumber": "701984",
                    "active": "True",
                },
            },
        )

        assert patched["displayName"] == "Babs J"
        assert patched["name"]["givenName"] == "Barbara"
        assert patched["name"]["familyName"] == user["name"]["familyName"]
        assert patched[ENTERPRISE_USER_SCHEMA] == {"employeeNumber": "701984"}
        assert patched["active"] is True

    def test_entra_filtered_adds_create_exactly_one_element(self, client, user):
        patched = patch_user(
            client,
            user,
            {
                "op": "Add",
                "path": 'addresses[type eq "work"].streetAddress',
                "value": "1 Main St",
            },
            {
                "op": "Add",
                "path": 'addresses[type eq "work"].locality',
                "value": "Redmond",
            },
            {
                "op": "Add",
                "path": 'phoneNumbers[type eq "mobile"].value',
                "value": "555-0100",
            },
        )

        assert patched["addresses"] == [
            {"type": "work", "streetAddress": "1 Main St", "locality": "Redmond"}
        ]
        assert patched["phoneNumbers"] == [
            {"value": "555-555-8377", "type": "work"},
            {"type": "mobile", "value": "555-0100"},
        ]

    def test_entra_group_member_add_and_remove_with_value_lists(self, client):
        alice, bob = (create(client, USERS, user_body()) for _ in range(2))
        group = create(client, GROUPS, group_body("Entra", members=[alice["id"]]))

        patch(
            client,
            group,
            {
                "op": "Add",
                "path": "members",
                "value": [{"$ref": None, "value": bob["id"]}],
            },
            {
                "op": "Remove",
                "path": "members",
                "value": [{"$ref": None, "value": alice["id"]}],
            },
            status=204,
        )

        assert member_ids(client, group) == [bob["id"]]

    def test_entra_group_rename(self, client):
        group = create(client, GROUPS, group_body("Before"))

        patch(
            client,
            group,
            {"op": "Replace", "path": "displayName", "value": "After"},
            status=204,
        )

        assert read(client, group)["displayName"] == "After"

    def test_databricks_sdk_deactivates_without_a_value(self, client, user):
        # The SDK drops false values, leaving a replace of active with none.
        patched = patch_user(client, user, {"op": "replace", "path": "active"})

        assert patched["active"] is False

    def test_okta_deactivate_with_no_path_replace(self, client, user):
        patched = patch_user(
            client, user, {"op": "replace", "value": {"active": False}}
        )

        assert patched["active"] is False
        assert patched["emails"] == user["emails"]

    def test_okta_group_rename_carrying_the_group_id(self, client):
        group = create(client, GROUPS, group_body("Before"))

        patch(
            client,
            group,
            {"op": "replace", "value": {"id": group["id"], "displayName": "After"}},
            status=204,
        )

        assert read(client, group)["displayName"] == "After"

    def test_okta_rename_carrying_another_id_is_refused(self, client):
        group = create(client, GROUPS, group_body("Before"))

        response = client.simulate_patch(
            f"{GROUPS}/{group['id']}",
            json=patch_body(
                {"op": "replace", "value": {"id": "1", "displayName": "After"}}
            ),
        )

        assert_scim_error(response, 400, "mutability")

    def test_okta_members_remove_and_add_in_one_request(self, client):
        alice, bob, carol = (create(client, USERS, user_body()) for _ in range(3))
        group = create(
            client, GROUPS, group_body("Okta", members=[alice["id"], bob["id"]])
        )

        patch(
            client,
            group,
            {"op": "remove", "path": f'members[value eq "{alice["id"]}"]'},
            {
                "op": "add",
                "path": "members",
                "value": [{"value": carol["id"], "display": "carol@example.com"}],
            },
            status=204,
        )

        assert member_ids(client, group) == sorted([bob["id"], carol["id"]])

    def test_okta_members_replace(self, client):
        alice, bob = (create(client, USERS, user_body()) for _ in range(2))
        group = create(client, GROUPS, group_body("Okta", members=[alice["id"]]))

        patch(
            client,
            group,
            {"op": "replace", "path": "members", "value": [{"value": bob["id"]}]},
            status=204,
        )

        assert member_ids(client, group) == [bob["id"]]

    def test_single_object_for_a_multi_valued_attribute(self, client, user):
        # OneLogin sends "emails" as one object; PATCH values are read alike.
        patched = patch_user(
            client,
            user,
            {"op": "replace", "path": "emails", "value": {"value": "one@x.org"}},
        )

        assert patched["emails"] == [{"value": "one@x.org"}]

    def test_full_object_replace_without_path(self, client, user):
        # A whole user as the value of a no-path replace, read-only parts
        # included, as provisioning clients that keep a copy of the user send.
        current = read(client, user)
        current["title"] = "Engineer"
        patched = patch_user(client, user, {"op": "replace", "value": current})

        assert patched["title"] == "Engineer"
        assert patched["emails"] == user["emails"]

    def test_rfc_example_add_member(self, client):
        # RFC 7644 §3.5.2.1, with the example's $ref and display.
        alice = create(client, USERS, user_body())
        group = create(client, GROUPS, group_body("RFC"))

        patch(
            client,
            group,
            {
                "op": "add",
                "path": "members",
                "value": [
                    {
                        "display": "Babs Jensen",
                        "$ref": f"https://example.com/v2/Users/{alice['id']}",
                        "value": alice["id"],
                    }
                ],
            },
            status=204,
        )

        assert member_ids(client, group) == [alice["id"]]

    def test_rfc_example_remove_all_and_add_in_one_request(self, client):
        # RFC 7644 §3.5.2.2: remove every member, then add one.
        alice, bob = (create(client, USERS, user_body()) for _ in range(2))
        group = create(client, GROUPS, group_body("RFC", members=[alice["id"]]))

        patch(
            client,
            group,
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [{"value": bob["id"]}]},
            status=204,
        )

        assert member_ids(client, group) == [bob["id"]]

    def test_rfc_example_replace_work_address(self, client):
        # RFC 7644 §3.5.2.3: replace the values a filter selects.
        user = create(
            client,
            USERS,
            user_body(addresses=[{"type": "work", "streetAddress": "old"}]),
        )

        patched = patch_user(
            client,
            user,
            {
                "op": "replace",
                "path": 'addresses[type eq "work"]',
                "value": {
                    "type": "work",
                    "streetAddress": "911 Universal City Plaza",
                    "locality": "Hollywood",
                    "primary": True,
                },
            },
        )

        assert patched["addresses"] == [
            {
                "type": "work",
                "streetAddress": "911 Universal City Plaza",
                "locality": "Hollywood",
                "primary": True,
            }
        ]
