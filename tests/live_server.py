"""A real ``scim-server serve`` on the test database, for black-box tests.

The ``server`` fixture starts gunicorn with two workers of two threads on
the test's database (SQLite or PostgreSQL) and a fresh admin token valid by
the real clock, and stops it after the test.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import peewee
import pytest

from scim_server.bootstrap import initialise
from scim_server.settings import Settings


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
        root: str = "/scim/v2",
    ) -> tuple[int, dict[str, str], Any]:
        """Send one request to ``root + path``; SCIM's root unless told."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
            payload = None
            if body is not None:
                payload = json.dumps(body).encode()
                sent["Content-Type"] = "application/scim+json"
            connection.request(method, f"{root}{path}", body=payload, headers=sent)
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
