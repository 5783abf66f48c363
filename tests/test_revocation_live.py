"""Revocation holds at once in every worker process of a real server."""

from __future__ import annotations

ATTEMPTS = 24  # each on a new connection, spread over two worker processes
API = "/api/2.0"


def test_a_revoked_token_fails_in_every_worker_at_once(server):
    status, _, created = server.request(
        "POST", "/token/create", {"comment": "short-lived"}, root=API
    )
    assert status == 200
    holder = {"Authorization": f"Bearer {created['token_value']}"}

    def me() -> int:
        return server.request("GET", "/Me", headers=holder)[0]

    assert {me() for _ in range(ATTEMPTS)} == {200}

    status, _, _ = server.request(
        "POST",
        "/token/delete",
        {"token_id": created["token_info"]["token_id"]},
        root=API,
    )

    assert status == 200
    assert {me() for _ in range(ATTEMPTS)} == {401}
