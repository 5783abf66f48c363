"""Where one kind of SCIM request spends its time, profiled inside one process.

    python bench/profile_app.py [--scenario item|filter|page] [--requests N]

The app is built as a gunicorn worker builds it, by ``create_app`` on a
database set up by ``scim-server init`` and seeded as bench/run.py seeds it,
and is then called directly as a WSGI application: no gunicorn, no sockets.
The floor app's GET is timed the same way. Their ratio, next to the one
bench/run.py measures over HTTP, shows how much of a miss is the SCIM code
itself; the cProfile tables that follow show which code.

The scenarios are bench/scenarios.lua's: ``item`` is GET /Users/{id},
``filter`` is GET /Users?filter=userName eq "...", ``page`` is GET /Users
with 100 per page.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import falcon.testing
import floor_app
import seed
import servers

from scim_server.app import create_app
from scim_server.settings import Settings
from storage.records import UserRecord

USERS = 10_000
PAGE_SIZE = 100
USERS_PATH = "/scim/v2/Users"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# What a scenario asks for, as a path and a query string, given a seeded
# user drawn at random and a random number generator for anything else.
PathAndQuery = Callable[[UserRecord, random.Random], tuple[str, str]]

SCENARIOS: dict[str, PathAndQuery] = {
    "item": lambda user, _: (f"{USERS_PATH}/{user.id}", ""),
    "filter": lambda user, _: (USERS_PATH, f'filter=userName eq "{user.user_name}"'),
    "page": lambda _, draw: (
        USERS_PATH,
        f"startIndex={draw.randint(1, USERS - PAGE_SIZE + 1)}&count={PAGE_SIZE}",
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_arguments(argv)
    with tempfile.TemporaryDirectory(prefix="scim-profile-") as data_dir:
        environ = servers.scim_environ(Path(data_dir))
        token = servers.initialise(environ)
        print(f"Seeding {USERS:,} users", file=sys.stderr, flush=True)
        users = seed.seed_users(environ, USERS)
        app = create_app(Settings.from_env(environ))
        requests = _requests(SCENARIOS[args.scenario], users, token, args.requests)

        scim_seconds = _seconds_per_request(app, requests)
        floor_seconds = _seconds_per_request(
            floor_app.app, _floor_requests(len(requests))
        )
        profile = _profile(app, requests)

    print(f"In-process, {len(requests):,} requests each, best of 3 rounds:")
    print(f"  SCIM {args.scenario:<6}  {scim_seconds * 1e6:7.1f} µs per request")
    print(f"  floor GET    {floor_seconds * 1e6:7.1f} µs per request")
    print(f"  SCIM ÷ floor {floor_seconds / scim_seconds:7.1%} of its throughput\n")
    print(_top(profile, "tottime", args.top))
    print(_top(profile, "cumulative", args.top))
    return 0


def _parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="item")
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--top", type=int, default=25, help="rows per table")
    return parser.parse_args(argv)


def _requests(
    scenario: PathAndQuery, users: Sequence[UserRecord], token: str, count: int
) -> list[dict[str, Any]]:
    # A fixed seed draws the same requests on every run, as scenarios.lua does.
    draw = random.Random(1)
    headers = {"Authorization": f"Bearer {token}"}
    requests = []
    for _ in range(count):
        path, query = scenario(draw.choice(users), draw)
        requests.append(
            falcon.testing.create_environ(
                path=path, query_string=query, headers=headers
            )
        )
    return requests


def _floor_requests(count: int) -> list[dict[str, Any]]:
    return [falcon.testing.create_environ(path="/") for _ in range(count)]


def _call(app: WSGIApp, request: dict[str, Any]) -> None:
    statuses: list[str] = []

    def start_response(status: str, headers: object, *_: object) -> None:
        statuses.append(status)

    body = b"".join(app(dict(request), start_response))
    if not statuses[0].startswith("200"):
        raise RuntimeError(f"expected 200, got {statuses[0]}: {body[:200]!r}")


def _seconds_per_request(app: WSGIApp, requests: Sequence[dict[str, Any]]) -> float:
    # The best of a few rounds is the least disturbed by other work on the
    # machine, which only ever adds time.
    rounds = []
    for _ in range(3):
        started = time.perf_counter()
        for request in requests:
            _call(app, request)
        rounds.append((time.perf_counter() - started) / len(requests))
    return min(rounds)


def _profile(app: WSGIApp, requests: Sequence[dict[str, Any]]) -> cProfile.Profile:
    profiler = cProfile.Profile()
    profiler.enable()
    for request in requests:
        _call(app, request)
    profiler.disable()
    return profiler


def _top(profiler: cProfile.Profile, order: str, rows: int) -> str:
    output = io.StringIO()
    pstats.Stats(profiler, stream=output).sort_stats(order).print_stats(rows)
    return f"Top {rows} by {order}:\n{output.getvalue()}"


if __name__ == "__main__":
    sys.exit(main())
