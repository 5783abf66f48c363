"""Concurrent writers against a real multi-worker server, on both databases.

These tests start ``scim-server serve`` with two gunicorn workers of two
threads on the test database and send requests from many threads at once,
released together by a barrier, so that writes really overlap in time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tests.factories import group_body, user_body

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
WRITERS = 8


def all_at_once(count: int, action: Callable[[int], Any]) -> list[Any]:
    """Run ``action(0..count-1)`` on as many threads, released together."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        results[index] = action(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def patch_body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def test_racing_writers_with_the_same_if_match_one_wins(server):
    status, _, user = server.request("POST", "/Users", user_body())
    assert status == 201
    version = user["meta"]["version"]

    def write(index: int) -> int:
        status, _, _ = server.request(
            "PATCH",
            f"/Users/{user['id']}",
            patch_body({"op": "replace", "path": "title", "value": f"writer {index}"}),
            headers={"If-Match": version},
        )
        return status

    statuses = all_at_once(WRITERS, write)

    assert sorted(statuses) == [200] + [412] * (WRITERS - 1)
    _, _, final = server.request("GET", f"/Users/{user['id']}")
    assert final["title"].startswith("writer ")


def test_racing_puts_with_the_same_if_match_one_wins(server):
    status, _, group = server.request("POST", "/Groups", group_body("Race"))
    assert status == 201

    def write(index: int) -> int:
        status, _, _ = server.request(
            "PUT",
            f"/Groups/{group['id']}",
            group_body(f"Race {index}"),
            headers={"If-Match": group["meta"]["version"]},
        )
        return status

    assert sorted(all_at_once(WRITERS, write)) == [200] + [412] * (WRITERS - 1)


def test_concurrent_member_adds_without_if_match_lose_nothing(server):
    people = [server.request("POST", "/Users", user_body())[2] for _ in range(WRITERS)]
    status, _, group = server.request("POST", "/Groups", group_body("Crowd"))
    assert status == 201

    def join(index: int) -> int:
        status, _, _ = server.request(
            "PATCH",
            f"/Groups/{group['id']}",
            patch_body(
                {
                    "op": "add",
                    "path": "members",
                    "value": [{"value": people[index]["id"]}],
                }
            ),
        )
        return status

    assert all_at_once(WRITERS, join) == [204] * WRITERS
    _, _, final = server.request("GET", f"/Groups/{group['id']}")
    assert sorted(m["value"] for m in final["members"]) == sorted(
        person["id"] for person in people
    )
    assert final["meta"]["version"] == f'W/"{1 + WRITERS}"'


def test_concurrent_document_changes_without_if_match_lose_nothing(server):
    status, _, user = server.request("POST", "/Users", user_body(emails=[]))
    assert status == 201

    def add_email(index: int) -> int:
        status, _, _ = server.request(
            "PATCH",
            f"/Users/{user['id']}",
            patch_body(
                {"op": "add", "path": "emails", "value": [{"value": f"{index}@x.org"}]}
            ),
        )
        return status

    assert all_at_once(WRITERS, add_email) == [200] * WRITERS
    _, _, final = server.request("GET", f"/Users/{user['id']}")
    assert sorted(e["value"] for e in final["emails"]) == sorted(
        f"{index}@x.org" for index in range(WRITERS)
    )
