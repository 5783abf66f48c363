"""What nested groups cost a user's reads, in one run.

    python bench/nested.py [--groups 10000] [--users 1000] [--postgresql URL]

For each database (SQLite always; PostgreSQL when a URL is given, such as
the one `.ci/with_postgres.py` exports), a fresh database gets --groups
groups in chains ten deep (each group the only member of the one above it)
and --users users, each a direct member of the bottom group of one chain.
Two more users are measured against each other:

- "nested" is a direct member of the bottom group of five chains of its own,
  so its ``groups`` lists 50 groups, 45 of them reached through up to nine
  levels of nesting;
- "flat" is a direct member of one group that holds nothing else and is in
  no other group.

Both are also members of the built-in ``users``, as every user is. The same
requests then go to both through the whole app in-process (falcon.testing,
no network): GET /Users/{id} with and without ``groups``, and a
``groups.value eq`` filter on the top of one of "nested"'s chains (found
nine levels down) against one on "flat"'s group. Each filter matches that
user alone. The script reports each request's median latency for "nested"
as a multiple of "flat".

Results go to bench/out/nested-*.json and, with --write, into the "Nested
groups" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import falcon.testing

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from report import replace_section  # noqa: E402

import storage  # noqa: E402
from scim_server.app import create_app  # noqa: E402
from scim_server.bootstrap import initialise  # noqa: E402
from scim_server.passwords import PasswordHasher  # noqa: E402
from scim_server.provisioning import Provisioning  # noqa: E402
from scim_server.schema import GROUP_SCHEMA, USER_SCHEMA  # noqa: E402
from scim_server.settings import Settings  # noqa: E402
from storage.database import is_postgresql  # noqa: E402
from storage.models import ALL_MODELS  # noqa: E402
from tokens import KeyRing  # noqa: E402

RESULTS = BENCH_DIR / "RESULTS.md"
OUT_DIR = BENCH_DIR / "out"
DEPTH = 10
OWN_CHAINS = 5
REPEATS = 200
START = "<!-- bench/nested.py: start -->"
END = "<!-- bench/nested.py: end -->"
USERS = "/scim/v2/Users"


@dataclasses.dataclass
class Dataset:
    client: falcon.testing.TestClient
    nested: str  # the user in 50 groups
    flat: str  # the user in one group
    nested_top: str  # the top of one of the nested user's chains
    flat_group: str
    seconds: float


def seed(url: str, groups: int, users: int, folder: Path) -> Dataset:
    """Chains of groups, users at their bottoms, and the two measured users."""
    settings = Settings(data_dir=folder, database_url=url, password_log2_n=4)
    db = storage.connect(url)
    with db.connection_context():
        db.drop_tables(ALL_MODELS, safe=True, cascade=is_postgresql(db))
    keys = KeyRing.generate()
    keys.save(settings.token_key_file)
    started = time.perf_counter()
    with db.connection_context():
        token = initialise(db, settings, "admin").admin_token
        provisioning = Provisioning(settings, PasswordHasher(log2_n=4))
        with storage.transaction():
            nested = provisioning.create_user(_user("nested")).id
            flat = provisioning.create_user(_user("flat")).id
            flat_group = provisioning.create_group(_group("flat group", [flat])).id
        others = _create_users(provisioning, users)
        chains = groups // DEPTH
        tops = []
        for start in range(0, chains, 100):
            with storage.transaction():
                for chain in range(start, min(start + 100, chains)):
                    # The first chains are the nested user's own.
                    bottom = nested if chain < OWN_CHAINS else others[chain % users]
                    tops.append(_create_chain(provisioning, chain, bottom))
        if is_postgresql(db):
            # As autovacuum would have by the time anyone reads.
            cast(Any, db).execute_sql("ANALYZE")
    seconds = time.perf_counter() - started
    print(f"  seeded {chains * DEPTH:,} groups in {seconds:.0f} s", file=sys.stderr)
    assert token is not None
    client = falcon.testing.TestClient(
        create_app(settings, keys=keys),
        headers={"Authorization": f"Bearer {token.token}"},
    )
    return Dataset(
        client, str(nested), str(flat), str(tops[0]), str(flat_group), seconds
    )


def _create_users(provisioning: Provisioning, count: int) -> list[int]:
    ids = []
    for start in range(0, count, 1000):
        with storage.transaction():
            for number in range(start, min(start + 1000, count)):
                ids.append(provisioning.create_user(_user(f"user{number:07d}")).id)
    return ids


def _create_chain(provisioning: Provisioning, chain: int, bottom: int) -> int:
    """Groups ``DEPTH`` deep, ``bottom`` in the lowest; the top's id."""
    member = bottom
    for level in range(DEPTH):
        name = f"chain {chain:05d} level {level}"
        member = provisioning.create_group(_group(name, [member])).id
    return member


def _user(name: str) -> dict[str, object]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": f"{name}@example.com",
        "emails": [{"value": f"{name}@example.com", "type": "work"}],
    }


def _group(name: str, members: list[int]) -> dict[str, object]:
    return {
        "schemas": [GROUP_SCHEMA],
        "displayName": name,
        "members": [{"value": str(member)} for member in members],
    }


def requests(data: Dataset) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Each request, once for the nested user and once for the flat one."""

    def get(path: str, **params: str) -> Callable[[], Any]:
        def run() -> Any:
            response = data.client.simulate_get(path, params=params)
            assert response.status_code == 200, response.text
            return response.json

        return run

    def by_group(group_id: str, **params: str) -> Callable[[], Any]:
        return get(USERS, filter=f'groups.value eq "{group_id}"', **params)

    return {
        "GET /Users/{id}": (
            get(f"{USERS}/{data.nested}"),
            get(f"{USERS}/{data.flat}"),
        ),
        "GET /Users/{id}, excludedAttributes=groups": (
            get(f"{USERS}/{data.nested}", excludedAttributes="groups"),
            get(f"{USERS}/{data.flat}", excludedAttributes="groups"),
        ),
        "filter groups.value eq": (
            by_group(data.nested_top),
            by_group(data.flat_group),
        ),
        "filter groups.value eq, excludedAttributes=groups": (
            by_group(data.nested_top, excludedAttributes="groups"),
            by_group(data.flat_group, excludedAttributes="groups"),
        ),
    }


def check(data: Dataset) -> None:
    """The data is what the report says it is."""
    nested = data.client.simulate_get(f"{USERS}/{data.nested}").json["groups"]
    kinds = [group["type"] for group in nested if group["display"] != "users"]
    assert (kinds.count("direct"), kinds.count("indirect")) == (OWN_CHAINS, 45)
    for group_id, user_id in (
        (data.nested_top, data.nested),
        (data.flat_group, data.flat),
    ):
        found = data.client.simulate_get(
            USERS, params={"filter": f'groups.value eq "{group_id}"'}
        ).json
        assert [user["id"] for user in found["Resources"]] == [user_id]


def measure(nested: Callable[[], Any], flat: Callable[[], Any]) -> dict[str, float]:
    """Median milliseconds of each request, after a warm-up.

    The two take turns, so that whatever else the machine does in the
    meantime slows both alike.
    """
    samples: dict[str, list[float]] = {"nested": [], "flat": []}
    for number in range(REPEATS + 10):
        for name, run in (("nested", nested), ("flat", flat)):
            started = time.perf_counter()
            run()
            if number >= 10:
                samples[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def run(label: str, url: str, groups: int, users: int) -> dict[str, Any]:
    print(f"{label}:", file=sys.stderr)
    with tempfile.TemporaryDirectory() as folder:
        data = seed(url, groups, users, Path(folder))
        check(data)
        timings = {
            name: measure(nested, flat)
            for name, (nested, flat) in requests(data).items()
        }
    return {"database": label, "timings": timings, "seed_s": data.seconds}


def report(results: list[dict[str, Any]], groups: int, users: int, command: str) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Nested groups: a user in 50 groups ten deep against one in one group",
        "",
        f"- Date: {now}; {os.cpu_count()} CPUs; Python {platform.python_version()}",
        f"- Data: {groups // DEPTH * DEPTH:,} groups in chains {DEPTH} deep (and"
        f" the flat user's group, `admins` and `users`), {users:,} other users;"
        f" the nested user is at the bottom of {OWN_CHAINS} chains (50 groups:"
        f" {OWN_CHAINS} direct, 45 indirect), the flat user in one group of its"
        " own; both also in the built-in `users`",
        f"- Command: `{command}`",
        f"- Each figure: median of {REPEATS} requests through the app in-process"
        " (falcon.testing), the nested and the flat user's taking turns; the"
        " filter is on the top of one of the nested"
        " user's chains, nine levels above its group, against the flat user's"
        " group, and each matches that user alone.",
        "",
    ]
    for result in results:
        lines += [
            f"### {result['database']}",
            "",
            "| Request | flat user, ms | nested user, ms | nested ÷ flat |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name, timing in result["timings"].items():
            flat, nested = timing["flat"], timing["nested"]
            lines.append(
                f"| {name} | {flat:.2f} | {nested:.2f} | {nested / flat:.2f}x |"
            )
        lines.append("")
    lines += [
        "With `groups` excluded the two users cost the same, so what the nested"
        " user adds to a GET is reading and rendering 51 groups instead of 2. A"
        " filter on `groups` first finds the groups it reaches, with one query"
        " that walks down the ten levels, and then reads their members by id,"
        " as for a group with nothing nested in it; compiling the filter for"
        " the count and again for the page makes that walk twice a request.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument(
        "--postgresql",
        default=os.environ.get("SCIM_TEST_POSTGRES_URL"),
        help="PostgreSQL URL (default: $SCIM_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--write", action="store_true", help="update RESULTS.md")
    args = parser.parse_args()
    if args.users < 1 or args.groups < OWN_CHAINS * DEPTH:
        parser.error(f"needs a user and at least {OWN_CHAINS * DEPTH} groups")

    results = []
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite:///{folder}/bench.db"
        results.append(run("SQLite", sqlite_url, args.groups, args.users))
    if args.postgresql:
        results.append(run("PostgreSQL", args.postgresql, args.groups, args.users))

    OUT_DIR.mkdir(exist_ok=True)
    for result in results:
        name = f"nested-{result['database'].lower()}.json"
        (OUT_DIR / name).write_text(json.dumps(result, indent=2))
    command = " ".join(["python", "bench/nested.py", *sys.argv[1:]])
    if args.postgresql:
        command = f"python .ci/with_postgres.py -- {command}"
    section = report(results, args.groups, args.users, command)
    print(section)
    if args.write:
        replace_section(RESULTS, START, END, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
