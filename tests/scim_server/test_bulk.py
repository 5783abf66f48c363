"""Reading, ordering and password handling of bulk jobs, without a database."""

from __future__ import annotations

from typing import Any

import pytest

from scim_server.bulk import (
    BULK_REQUEST,
    Operation,
    PrehashedPasswords,
    find_references,
    parse_bulk_request,
    plan,
    prehash_passwords,
)
from scim_server.bulk.request import MAX_DEPTH
from scim_server.errors import InvalidSyntax, PayloadTooLarge
from scim_server.passwords import PasswordHasher

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def request(*operations: Any, **fields: Any) -> dict[str, Any]:
    return {"schemas": [BULK_REQUEST], "Operations": list(operations), **fields}


def post(bulk_id: str, endpoint: str = "/Groups", **data: Any) -> dict[str, Any]:
    return {"method": "POST", "path": endpoint, "bulkId": bulk_id, "data": data}


def members(*bulk_ids: str) -> list[dict[str, str]]:
    return [{"value": f"bulkId:{bulk_id}"} for bulk_id in bulk_ids]


def parsed(*operations: Any) -> list[Operation]:
    return parse_bulk_request(request(*operations), max_operations=1000).operations


def order(*operations: Any) -> list[list[int]]:
    """The operation numbers of each step of the plan."""
    steps = plan(parsed(*operations))
    return [[operation.number for operation in step.operations] for step in steps]


class TestParse:
    def test_an_operation_keeps_what_it_needs_to_run(self):
        (operation,) = parsed(
            {
                "method": "patch",
                "path": "/Groups/bulkId:g",
                "version": 'W/"3"',
                "data": {"Operations": [{"value": members("u")}]},
            }
        )

        assert operation.method == "PATCH"
        assert operation.endpoint == "/Groups"
        assert operation.target == "bulkId:g"
        assert operation.version == 'W/"3"'
        assert operation.references == {("Operations", 0, "value", 0, "value"): "u"}
        assert operation.referred() == ["g", "u"]
        assert operation.error is None

    def test_a_trailing_slash_names_the_same_endpoint(self):
        (operation,) = parsed(post("u", "/Users/"))

        assert (operation.endpoint, operation.target) == ("/Users", None)

    def test_more_operations_than_allowed_is_too_large(self):
        with pytest.raises(PayloadTooLarge, match="maxOperations is 2"):
            parse_bulk_request(request(post("a"), post("b"), post("c")), 2)

    def test_a_repeated_bulk_id_names_both_operations(self):
        with pytest.raises(InvalidSyntax, match="operations 1 and 3"):
            parsed(post("a"), post("b"), post("a"))

    def test_a_bulk_id_on_other_methods_is_not_a_declaration(self):
        operations = parsed(
            post("a"), {"method": "DELETE", "path": "/Users/1", "bulkId": "a"}
        )

        assert [operation.creates for operation in operations] == ["a", None]

    def test_fail_on_errors_is_kept(self):
        assert parse_bulk_request(request(failOnErrors=3), 10).fail_on_errors == 3


class TestFindReferences:
    def test_references_are_whole_values_in_document_order(self):
        data = {
            "members": members("a", "b"),
            "urn:x": {"manager": {"value": "bulkId:c"}},
            "note": "see bulkId:d",
            "empty": "bulkId:",
        }

        assert list(find_references(data).items()) == [
            (("members", 0, "value"), "a"),
            (("members", 1, "value"), "b"),
            (("urn:x", "manager", "value"), "c"),
        ]

    def test_data_nested_too_deep_is_refused(self):
        data: Any = "bulkId:a"
        for _ in range(MAX_DEPTH + 1):
            data = [data]

        with pytest.raises(InvalidSyntax, match="deeper"):
            find_references(data)

    def test_data_at_the_depth_limit_is_read(self):
        data: Any = "bulkId:a"
        for _ in range(MAX_DEPTH):
            data = [data]

        assert list(find_references(data).values()) == ["a"]


class TestPlan:
    def test_operations_without_references_keep_their_order(self):
        assert order(post("a"), post("b"), post("c")) == [[1], [2], [3]]

    def test_a_post_moves_up_to_just_before_what_refers_to_it(self):
        steps = order(
            post("a"),
            post("b", members=members("d")),
            post("c"),
            post("d"),
        )

        assert steps == [[1], [4], [2], [3]]

    def test_a_reference_in_a_path_counts_too(self):
        steps = order({"method": "DELETE", "path": "/Groups/bulkId:g"}, post("g"))

        assert steps == [[2], [1]]

    def test_posts_that_refer_to_each_other_are_one_circular_step(self):
        steps = plan(
            parsed(
                post("a", members=members("b")),
                post("x"),
                post("b", members=members("c")),
                post("c", members=members("a")),
                {"method": "DELETE", "path": "/Groups/bulkId:c"},
            )
        )

        assert [[op.number for op in step.operations] for step in steps] == [
            [1, 3, 4],
            [2],
            [5],
        ]
        assert [step.circular for step in steps] == [True, False, False]

    def test_a_post_that_refers_to_itself_is_circular(self):
        (step,) = plan(parsed(post("a", members=members("a"))))

        assert step.circular

    def test_an_unknown_bulk_id_orders_nothing(self):
        assert order(post("a", members=members("zzz")), post("b")) == [[1], [2]]

    def test_a_long_chain_does_not_exhaust_the_stack(self):
        # Each POST refers to the next; the last one must run first.
        length = 5000
        chain = [post(f"g{n}", members=members(f"g{n + 1}")) for n in range(length)]
        chain.append(post(f"g{length}"))
        operations = parse_bulk_request(request(*chain), 10_000).operations

        steps = plan(operations)

        assert [step.operations[0].number for step in steps] == list(
            range(length + 1, 0, -1)
        )


class TestPasswords:
    def test_passwords_set_by_posts_puts_and_patches_are_hashed_ahead(self):
        operations = parsed(
            post("a", "/Users", userName="a", password="one"),
            {"method": "PUT", "path": "/Users/1", "data": {"PASSWORD": "two"}},
            {
                "method": "PATCH",
                "path": "/Users/2",
                "data": {
                    "schemas": [PATCH_OP],
                    "Operations": [
                        {"op": "replace", "path": "password", "value": "three"},
                        {"op": "replace", "value": {"password": "four"}},
                        {"op": "replace", "path": "title", "value": "five"},
                    ],
                },
            },
            post("g", "/Groups", displayName="g", password="six"),
        )

        hasher = prehash_passwords(PasswordHasher(log2_n=4), operations)

        assert sorted(hasher.ready) == ["four", "one", "three", "two"]

    def test_each_hash_is_handed_out_once_then_new_ones_are_made(self):
        base = PasswordHasher(log2_n=4)
        operations = parsed(
            post("a", "/Users", userName="a", password="same"),
            post("b", "/Users", userName="b", password="same"),
        )
        hasher = prehash_passwords(base, operations)
        made_ahead = set(hasher.ready["same"])

        handed_out = [hasher.hash("same") for _ in range(3)]

        assert set(handed_out[:2]) == made_ahead
        assert len(set(handed_out)) == 3
        assert all(base.verify("same", encoded) for encoded in handed_out)

    def test_a_prehashed_hasher_keeps_the_cost_of_the_one_it_stands_for(self):
        hasher = prehash_passwords(PasswordHasher(log2_n=5, r=4), [])

        assert isinstance(hasher, PrehashedPasswords)
        assert "ln=5,r=4,p=1" in hasher.hash("x")
