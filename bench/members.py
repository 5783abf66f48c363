"""What one member's PATCH costs as a group grows, in one run.

    python bench/members.py [--members 100000] [--postgresql URL] [--write]

For each database (SQLite always; PostgreSQL when a URL is given, such as
the one `.ci/with_postgres.py` exports), a fresh database gets --members
users, a large group holding all of them and a small group holding ten.
The same PATCH requests then go to both groups through the whole app
in-process (falcon.testing, no network): add one member, remove it by
``members[value eq "..."]``, and rename the group. The script reports each
request's median latency on the large group as a multiple of the small one;
the target is at most 2x. A replacement of the whole member list that
changes one member is shown for contrast: it computes a difference, so it
reads every current member but writes only the change.

Results go to bench/out/members-*.json and, with --write, into the
"Group membership" section of bench/RESULTS.md.
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
from storage import groups as group_store  # noqa: E402
from storage.database import is_postgresql  # noqa: E402
from storage.models import ALL_MODELS  # noqa: E402
from tokens import KeyRing  # noqa: E402

RESULTS = BENCH_DIR / "RESULTS.md"
OUT_DIR = BENCH_DIR / "out"
SMALL_GROUP = 10
REPEATS = 200
START = "<!-- bench/members.py: start -->"
END = "<!-- bench/members.py: end -->"
TARGET = 2.0
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUPS = "/scim/v2/Groups"


@dataclasses.dataclass
class Dataset:
    client: falcon.testing.TestClient
    user_ids: list[int]
    large_group: int
    small_group: int
    seconds: float


def seed(url: str, members: int, folder: Path) -> Dataset:
    """Users, one group of all of them and one of ten."""
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
        # One spare user per repeat, to be added and removed again.
        ids = []
        for start in range(0, members + REPEATS, 1000):
            with storage.transaction():
                for number in range(start, min(start + 1000, members + REPEATS)):
                    ids.append(provisioning.create_user(_user(number)).id)
        large = provisioning.create_group(_group("Everyone"))
        for start in range(0, members, 1000):
            group_store.add_members(
                large.id, ids[start : min(start + 1000, members)], now=settings.clock()
            )
        small = provisioning.create_group(_group("Ten"))
        group_store.add_members(small.id, ids[:SMALL_GROUP], now=settings.clock())
        if is_postgresql(db):
            # A server in steady state has statistics from autovacuum; right
            # after a bulk load PostgreSQL plans from none and scans.
            cast(Any, db).execute_sql("ANALYZE")
    seconds = time.perf_counter() - started
    print(f"  seeded {members:,} members in {seconds:.0f} s", file=sys.stderr)
    assert token is not None
    client = falcon.testing.TestClient(
        create_app(settings, keys=keys),
        headers={"Authorization": f"Bearer {token.token}"},
    )
    return Dataset(client, ids, large.id, small.id, seconds)


def _user(number: int) -> dict[str, object]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": f"member{number:07d}@example.com",
        "emails": [{"value": f"member{number:07d}@example.com", "type": "work"}],
    }


def _group(name: str) -> dict[str, object]:
    return {"schemas": [GROUP_SCHEMA], "displayName": name}


def _patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def measure(data: Dataset, group_id: int, members: int) -> dict[str, float]:
    """Median milliseconds of each PATCH on one group."""
    client = data.client
    location = f"{GROUPS}/{group_id}"
    spare = data.user_ids[members:]

    def send(body: dict[str, Any]) -> float:
        started = time.perf_counter()
        response = client.simulate_patch(location, json=body)
        elapsed = time.perf_counter() - started
        assert response.status_code == 204, response.text
        return elapsed * 1000

    timings: dict[str, list[float]] = {"add one": [], "remove one": [], "rename": []}
    for number in range(REPEATS):
        member = str(spare[number])
        add = _patch({"op": "add", "path": "members", "value": [{"value": member}]})
        timings["add one"].append(send(add))
        remove = _patch({"op": "remove", "path": f'members[value eq "{member}"]'})
        timings["remove one"].append(send(remove))
        rename = _patch(
            {"op": "replace", "path": "displayName", "value": f"G{group_id} {number}"}
        )
        timings["rename"].append(send(rename))
    current = [str(member_id) for member_id in data.user_ids[:members]]
    replacements = []
    for number in range(5):
        # The same list with its first member swapped for a spare one.
        wanted = [str(spare[number]), *current[1:]]
        body = _patch(
            {
                "op": "replace",
                "path": "members",
                "value": [{"value": value} for value in wanted],
            }
        )
        replacements.append(send(body))
        current = wanted
    found = {name: statistics.median(values) for name, values in timings.items()}
    found["replace all, one changed"] = statistics.median(replacements)
    return found


def run(label: str, url: str, members: int) -> dict[str, Any]:
    print(f"{label}:", file=sys.stderr)
    with tempfile.TemporaryDirectory() as folder:
        data = seed(url, members, Path(folder))
        small = measure(data, data.small_group, SMALL_GROUP)
        large = measure(data, data.large_group, members)
    return {"database": label, "small": small, "large": large, "seed_s": data.seconds}


def report(results: list[dict[str, Any]], members: int, command: str) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Group membership: one member's PATCH as the group grows",
        "",
        f"- Date: {now}; {os.cpu_count()} CPUs; Python {platform.python_version()}",
        f"- Groups: {SMALL_GROUP} members and {members:,} members",
        f"- Command: `{command}`",
        f"- Each figure: median of {REPEATS} PATCH requests through the app"
        " in-process (falcon.testing); the replacement, of 5.",
        "",
    ]
    for result in results:
        lines += [
            f"### {result['database']}",
            "",
            f"| PATCH | {SMALL_GROUP} members, ms | {members:,} members, ms"
            f" | large ÷ small | Target ≤ {TARGET:g}x |",
            "| --- | ---: | ---: | ---: | --- |",
        ]
        for name, small in result["small"].items():
            large = result["large"][name]
            ratio = large / small
            if name.startswith("replace all"):
                verdict = "— (reads every member by design)"
            else:
                verdict = "pass" if ratio <= TARGET else "miss"
            lines.append(
                f"| {name} | {small:.2f} | {large:.2f} | {ratio:.2f}x | {verdict} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument(
        "--postgresql",
        default=os.environ.get("SCIM_TEST_POSTGRES_URL"),
        help="PostgreSQL URL (default: $SCIM_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--write", action="store_true", help="update RESULTS.md")
    args = parser.parse_args()

    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(run("SQLite", f"sqlite:///{folder}/bench.db", args.members))
    if args.postgresql:
        results.append(run("PostgreSQL", args.postgresql, args.members))
    minutes = (time.perf_counter() - started) / 60
    print(f"whole run: {minutes:.1f} min", file=sys.stderr)

    OUT_DIR.mkdir(exist_ok=True)
    for result in results:
        name = f"members-{result['database'].lower()}.json"
        (OUT_DIR / name).write_text(json.dumps(result, indent=2))
    command = " ".join(["python", "bench/members.py", *sys.argv[1:]])
    if args.postgresql:
        command = f"python .ci/with_postgres.py -- {command}"
    section = report(results, args.members, command)
    print(section)
    if args.write:
        replace_section(RESULTS, START, END, section)
    misses = [
        name
        for result in results
        for name, small in result["small"].items()
        if not name.startswith("replace all") and result["large"][name] / small > TARGET
    ]
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
