"""Creating users with one Bulk request against as many single POSTs.

    python bench/bulk.py [--users 1000] [--rounds 5] [--postgresql URL] [--write]

For each database (SQLite always; PostgreSQL when a URL is given, such as the
one `.ci/with_postgres.py` exports), every round creates --users users with
POST /Users, one request after another, and as many others with one POST
/Bulk; the report compares the median throughput of the rounds. Each round
is measured twice: over HTTP against `scim-server serve` (gunicorn on
loopback, as an operator runs it), which is what a client sees, and in
process through falcon.testing, which leaves only the server's own work.
Users have no password: scrypt is slow on purpose, and costs the same both
ways.

Results go to bench/out/bulk.json and, with --write, into the "Bulk" section
of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import falcon.testing

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

from report import replace_section  # noqa: E402

import storage  # noqa: E402
from scim_server.app import create_app  # noqa: E402
from scim_server.schema import USER_SCHEMA  # noqa: E402
from scim_server.settings import Settings  # noqa: E402
from storage.database import is_postgresql  # noqa: E402
from storage.models import ALL_MODELS  # noqa: E402

RESULTS = BENCH_DIR / "RESULTS.md"
OUT_DIR = BENCH_DIR / "out"
START = "<!-- bench/bulk.py: start -->"
END = "<!-- bench/bulk.py: end -->"
TARGET = 3.0
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
READY_TIMEOUT = 30.0
# The server of this checkout, whatever else is installed: run from ROOT.
SCIM_SERVER = (sys.executable, "-m", "scim_server")

# Sends a POST to a path with a JSON body; answers the status and the body.
Send = Callable[[str, bytes], tuple[int, bytes]]
# Users per second, by database, then transport, then "single" or "bulk",
# one figure per round.
Report = dict[str, dict[str, dict[str, list[float]]]]


class Users:
    """User bodies whose userNames never repeat within a run."""

    def __init__(self) -> None:
        self._count = 0

    def next(self) -> dict[str, Any]:
        self._count += 1
        name = f"bulk{self._count:07d}@example.com"
        return {
            "schemas": [USER_SCHEMA],
            "userName": name,
            "externalId": f"ext-{self._count:07d}",
            "name": {"givenName": "Bench", "familyName": f"User {self._count}"},
            "emails": [
                {"value": name, "type": "work", "primary": True},
                {"value": f"home{self._count:07d}@example.net", "type": "home"},
            ],
            "title": "Engineer",
        }


def single_posts(send: Send, users: Users, count: int) -> float:
    """Users per second, created by one POST /Users each."""
    bodies = [json.dumps(users.next()).encode() for _ in range(count)]
    started = time.perf_counter()
    for body in bodies:
        status, answer = send("/scim/v2/Users", body)
        assert status == 201, answer[:300]
    return count / (time.perf_counter() - started)


def one_bulk(send: Send, users: Users, count: int) -> float:
    """Users per second, created by one POST /Bulk of ``count`` operations."""
    operations = [
        {"method": "POST", "path": "/Users", "bulkId": f"u{n}", "data": users.next()}
        for n in range(count)
    ]
    body = json.dumps({"schemas": [BULK_REQUEST], "Operations": operations})
    started = time.perf_counter()
    status, answer = send("/scim/v2/Bulk", body.encode())
    seconds = time.perf_counter() - started
    assert status == 200, answer[:300]
    results = json.loads(answer)["Operations"]
    assert [result["status"] for result in results] == ["201"] * count, answer[:300]
    return count / seconds


def over_http(url: str, token: str) -> Send:
    """Requests over one connection, reopened whenever it may have closed.

    gunicorn's sync workers (SQLite) close after every response; threaded
    workers (PostgreSQL) keep the connection, which spares single POSTs a
    connect each, but drop it after two idle seconds.
    """
    host, _, port = url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=300)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/scim+json",
    }
    last_used = 0.0

    def send(path: str, body: bytes) -> tuple[int, bytes]:
        nonlocal last_used
        if time.monotonic() - last_used > 1.0:
            connection.close()  # http.client opens a new one on request
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        last_used = time.monotonic()
        return response.status, answer

    return send


def in_process(client: falcon.testing.TestClient) -> Send:
    def send(path: str, body: bytes) -> tuple[int, bytes]:
        response = client.simulate_post(
            path, body=body, headers={"Content-Type": "application/scim+json"}
        )
        return response.status_code, response.content

    return send


@contextlib.contextmanager
def server(environ: dict[str, str], log: Path) -> Iterator[str]:
    """`scim-server serve` on a free loopback port, stopped on leaving."""
    url = f"http://127.0.0.1:{_free_port()}"
    command = [*SCIM_SERVER, "serve", "--bind", url.removeprefix("http://")]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environ, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_ready(url, process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"scim-server serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/scim/v2/ServiceProviderConfig"):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"scim-server did not answer at {url} in {READY_TIMEOUT} s")


def prepare(url: str, folder: Path) -> tuple[dict[str, str], str]:
    """An empty database at ``url``, initialised; its environment and token."""
    db = storage.connect(url)
    with db.connection_context():
        db.drop_tables(ALL_MODELS, safe=True, cascade=is_postgresql(db))
    # Only the data dir and the database come from here, so that a stray
    # SCIM_* variable in the caller's shell cannot change what is measured.
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SCIM_")}
    environ |= {"SCIM_DATA_DIR": str(folder), "SCIM_DATABASE_URL": url}
    result = subprocess.run(
        [*SCIM_SERVER, "init"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"scim-server init failed:\n{result.stderr}")
    return environ, result.stdout.strip().splitlines()[-1]


def bench_backend(
    name: str, url: str, users: Users, args: argparse.Namespace
) -> dict[str, dict[str, list[float]]]:
    """Users per second by transport and way, one figure per round."""
    figures: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        environ, token = prepare(url, Path(scratch))
        settings = Settings.from_env(environ)
        client = falcon.testing.TestClient(
            create_app(settings), headers={"Authorization": f"Bearer {token}"}
        )
        log = OUT_DIR / f"bulk-{name.lower()}-server.log"
        with server(environ, log) as base:
            transports = {
                "HTTP": over_http(base, token),
                "in-process": in_process(client),
            }
            for round_number in range(args.rounds):
                print(f"{name}: round {round_number + 1}", file=sys.stderr)
                for transport, send in transports.items():
                    measured = figures.setdefault(transport, {"single": [], "bulk": []})
                    # Alternate which goes first, so that neither always meets
                    # the fuller tables.
                    ways = (
                        ["single", "bulk"]
                        if round_number % 2 == 0
                        else ["bulk", "single"]
                    )
                    for way in ways:
                        run = single_posts if way == "single" else one_bulk
                        measured[way].append(run(send, users, args.users))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--postgresql", default=os.environ.get("SCIM_TEST_POSTGRES_URL")
    )
    parser.add_argument("--write", action="store_true", help="update RESULTS.md")
    args = parser.parse_args()
    if not 1 <= args.users <= Settings().bulk_max_operations:
        parser.error("--users must be between 1 and the default maxOperations")

    OUT_DIR.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="scim-bench-bulk-"))
    backends = {"SQLite": f"sqlite:///{scratch}/bulk.sqlite3"}
    if args.postgresql:
        backends["PostgreSQL"] = args.postgresql
    users = Users()
    started = time.perf_counter()
    report: Report = {
        name: bench_backend(name, url, users, args) for name, url in backends.items()
    }
    seconds = time.perf_counter() - started
    text = render(report, args, seconds)
    print(text)
    (OUT_DIR / "bulk.json").write_text(json.dumps(report, indent=2))
    if args.write:
        replace_section(RESULTS, START, END, text)
    return 0


def render(report: Report, args: argparse.Namespace, seconds: float) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Bulk: one request against many",
        "",
        f"- Date: {now}; {os.cpu_count()} CPUs; Python {platform.python_version()};"
        f" code at {_revision()}; whole run {seconds:.0f} s",
        f"- Work: {args.users:,} new users (two emails each, no password) per way"
        f" and round, {args.rounds} rounds; figures are medians of the rounds",
        "- Command: `python .ci/with_postgres.py -- .venv/bin/python bench/bulk.py"
        f" --users {args.users} --rounds {args.rounds} --write`",
        "- HTTP: one client, one request at a time, against `scim-server serve`"
        " on loopback; in-process: the same requests through falcon.testing",
        "",
        f"| Database | Transport | single POSTs, users/s | one Bulk, users/s"
        f" | Bulk ÷ single | Target ≥ {TARGET:.0f}x |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for backend, transports in report.items():
        for transport, figures in transports.items():
            single = statistics.median(figures["single"])
            bulk = statistics.median(figures["bulk"])
            # Rounded down, so that a ratio shown as 3.00x has reached 3.
            ratio = math.floor(bulk / single * 100) / 100
            verdict = "pass" if ratio >= TARGET else "miss"
            lines.append(
                f"| {backend} | {transport} | {single:,.0f} | {bulk:,.0f}"
                f" | {ratio:.2f}x | {verdict} |"
            )
    lines += [
        "",
        "Over HTTP each single POST pays for a request of its own (and, with"
        " SQLite's sync workers, a connection), a token check, the rendering of"
        " the user and a commit; one Bulk pays these once and commits once per"
        " 100 users. In process both still run the same validation and the same"
        " SQL statements per user, which are most of what remains; on"
        " PostgreSQL each statement is a round trip. The cluster that"
        " `.ci/with_postgres.py` starts has fsync and synchronous_commit off, so"
        " its commits cost almost nothing; with durable commits each single"
        " POST also waits for a WAL flush.",
        "",
    ]
    return "\n".join(lines)


def _revision() -> str:
    """The commit measured, marked when files git tracks had changed."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no")
    return f"{commit} with local changes" if changed else commit


if __name__ == "__main__":
    raise SystemExit(main())
