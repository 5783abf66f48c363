"""Concurrent writers against a real multi-worker server, on both databases.

These tests start ``scim-server serve`` with two gunicorn workers of two
threads on the test database and send requests from many threads at once,
released together by a barrier, so that writes really overlap in time.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import peewee
import pytest

from scim_server.bootstrap import initialise
from scim_server.settings import Settings
from tests.factories import group_body, user_body

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
WRITERS = 8


class Server:
    """A running ``scim-server serve`` and an admin token for it."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
            payload = None
            if body is not None:
                payload = json.dumps(body).encode()
                sent["Content-Type"] = "application/scim+json"
            connection.request(method, f"/scim/v2{path}", body=payload, headers=sent)
            response = connection.getresponse()
            data = response.read()
            answer = {key.lower(): value for key, value in response.getheaders()}
            return response.status, answer, json.loads(data) if data else None
        finally:
            connection.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start within 30 s")


@pytest.fixture
def server(
    db: peewee.Database, database_url: str, tmp_path: Path, keys: object
) -> Iterator[Server]:
    # The token must be valid by the server's clock, which is the real one.
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    report = initialise(db, settings, "admin")
    assert report.admin_token is not None
    # Connections this process holds would keep SQLite's write lock busy.
    db.close()
    port = _free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SCIM_")},
        "SCIM_DATA_DIR": str(tmp_path),
        "SCIM_DATABASE_URL": database_url,
        "SCIM_PASSWORD_SCRYPT_LOG2_N": "4",
    }
    command = [
        sys.executable,
        "-m",
        "scim_server",
        "serve",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        "2",
    ]
    process = subprocess.Popen(
        command,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_serving(port, process)
        yield Server(port, report.admin_token.token)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
