"""Filter and cursor latency as the data grows, in one run.

    python bench/filters.py [--large 100000] [--small 1000] [--postgresql URL]

For each database (SQLite always; PostgreSQL when a URL is given, such as
the one `.ci/with_postgres.py` exports), two fresh databases are seeded, one
with --small users and one with --large, each user with two email addresses,
and a group holding 10,000 of them (all of them when there are fewer). The
same requests then run against both through the whole app in-process
(falcon.testing, no network), and the script reports each lookup's median
latency at the large size as a multiple of the small one. Lookups answered
from an index should stay near 1x; an offset page deep in the result is shown
for contrast with a cursor page there.

Results go to bench/out/filters-*.json and, with --write, into the
"Filters" section of bench/RESULTS.md.
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

import falcon.testing

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from report import replace_section  # noqa: E402

import storage  # noqa: E402
from scim_server.app import create_app  # noqa: E402
from scim_server.bootstrap import initialise  # noqa: E402
from scim_server.cursors import Cursor, CursorCodec, fingerprint  # noqa: E402
from scim_server.passwords import PasswordHasher  # noqa: E402
from scim_server.provisioning import Provisioning  # noqa: E402
from scim_server.schema import GROUP_SCHEMA, USER_SCHEMA  # noqa: E402
from scim_server.settings import Settings  # noqa: E402
from storage import groups as group_store  # noqa: E402
from storage.compiler import Position  # noqa: E402
from storage.database import is_postgresql, open_connection  # noqa: E402
from storage.filters import Selection  # noqa: E402
from storage.models import ALL_MODELS  # noqa: E402
from tokens import KeyRing  # noqa: E402

RESULTS = BENCH_DIR / "RESULTS.md"
OUT_DIR = BENCH_DIR / "out"
GROUP_MEMBERS = 10_000
REPEATS = 200
START = "<!-- bench/filters.py: start -->"
END = "<!-- bench/filters.py: end -->"
TARGET = 1.5

# Median seconds per request, by database, then request, then "small" or
# "large".
Report = dict[str, dict[str, dict[str, float]]]


@dataclasses.dataclass
class Dataset:
    client: falcon.testing.TestClient
    size: int
    probe: int  # the index of the user the lookups look for
    group_id: int
    codec: CursorCodec


def seed(url: str, size: int, folder: Path) -> Dataset:
    """A database with ``size`` users, two emails each, and one big group."""
    settings = Settings(data_dir=folder, database_url=url, password_log2_n=4)
    db = storage.connect(url)
    with db.connection_context():
        db.drop_tables(ALL_MODELS, safe=True, cascade=is_postgresql(db))
    keys = KeyRing.generate()
    keys.save(settings.token_key_file)
    with db.connection_context():
        token = initialise(db, settings, "admin").admin_token
        provisioning = Provisioning(settings, PasswordHasher(log2_n=4))
        ids = []
        started = time.perf_counter()
        for start in range(0, size, 1000):
            # Batches in one transaction each: seeding, not what is measured.
            with storage.transaction():
                for number in range(start, min(start + 1000, size)):
                    ids.append(provisioning.create_user(_user(number)).id)
        members = ids[:GROUP_MEMBERS]
        group = provisioning.create_group(
            {"schemas": [GROUP_SCHEMA], "displayName": "Everyone"}
        )
        for start in range(0, len(members), 1000):
            group_store.add_members(
                group.id, members[start : start + 1000], now=settings.clock()
            )
        seconds = time.perf_counter() - started
    print(f"  seeded {size:,} users in {seconds:.0f} s", file=sys.stderr)
    assert token is not None
    client = falcon.testing.TestClient(
        create_app(settings, keys=keys),
        headers={"Authorization": f"Bearer {token.token}"},
    )
    codec = CursorCodec(
        keys.keys[keys.current], settings.clock, settings.cursor_lifetime
    )
    return Dataset(client, size, size // 2, group.id, codec)


def _user(number: int) -> dict[str, object]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": f"user{number:07d}@example.com",
        "externalId": f"ext-{number:07d}",
        "name": {"givenName": "Bench", "familyName": f"User {number}"},
        "emails": [
            {"value": f"user{number:07d}@example.com", "type": "work"},
            {"value": f"home{number:07d}@example.net", "type": "home"},
        ],
        "title": ["Engineer", "Manager", "Designer"][number % 3],
    }


def scenarios(data: Dataset) -> dict[str, Callable[[], object]]:
    n = data.probe
    users = "/scim/v2/Users"

    def get(path: str, **params: object) -> Callable[[], object]:
        def run() -> object:
            response = data.client.simulate_get(path, params=params)
            assert response.status_code == 200, response.text
            return response

        return run

    # 90% of the way through, but with a full page after it at any size.
    deep = min(int(data.size * 0.9), data.size - 100)
    deep_cursor = _cursor_at(data, deep)
    return {
        "userName eq": get(users, filter=f'userName eq "USER{n:07d}@example.com"'),
        "externalId eq": get(users, filter=f'externalId eq "ext-{n:07d}"'),
        "emails.value eq": get(
            users, filter=f'emails.value eq "home{n:07d}@example.net"'
        ),
        "members.value eq (10,000-member group)": get(
            "/scim/v2/Groups",
            filter=f'members.value eq "{_member_id(data)}"',
            excludedAttributes="members",
        ),
        "cursor page, first (100)": get(users, cursor="", count=100),
        "cursor page at 90% (100)": get(users, cursor=deep_cursor, count=100),
        "offset page at 90% (100), for contrast": get(
            users, startIndex=deep + 1, count=100
        ),
    }


def _member_id(data: Dataset) -> int:
    members = group_store.members_of_groups([data.group_id])[data.group_id]
    return members[len(members) // 2].id


def _cursor_at(data: Dataset, index: int) -> str:
    """A next-page cursor positioned at the ``index``-th user in default order."""
    page = storage.users.page_of_users(Selection(), None, index + 1)
    _, position = page[-1]
    order = fingerprint("User", None, None, False)
    return data.codec.encode(
        Cursor(Position(position.value, position.id), backwards=False, query=order)
    )


def measure(run: Callable[[], object]) -> float:
    """Median seconds of one run, after a warm-up."""
    for _ in range(10):
        run()
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def bench_backend(
    name: str, url_for: Callable[[str], str], small: int, large: int
) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, size in (("small", small), ("large", large)):
            print(f"{name}: {size:,} users", file=sys.stderr)
            data = seed(url_for(label), size, Path(folder) / label)
            storage.connect(url_for(label))
            # The app's middleware opens and releases connections per
            # request; the setup queries below need one of their own.
            open_connection()
            for scenario, run in scenarios(data).items():
                results.setdefault(scenario, {})[label] = measure(run)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument(
        "--postgresql", default=os.environ.get("SCIM_TEST_POSTGRES_URL")
    )
    parser.add_argument("--write", action="store_true", help="update RESULTS.md")
    args = parser.parse_args()

    backends: dict[str, Callable[[str], str]] = {}
    scratch = Path(tempfile.mkdtemp(prefix="scim-bench-"))
    backends["SQLite"] = lambda label: f"sqlite:///{scratch}/{label}.sqlite3"
    if args.postgresql:
        # Both sizes share the one database; seeding drops and recreates.
        backends["PostgreSQL"] = lambda label: args.postgresql
    started = time.perf_counter()
    report = {
        name: bench_backend(name, url_for, args.small, args.large)
        for name, url_for in backends.items()
    }
    minutes = (time.perf_counter() - started) / 60
    text = render(report, args, minutes)
    print(text)
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "filters.json").write_text(json.dumps(report, indent=2))
    if args.write:
        replace_section(RESULTS, START, END, text)
    return 0


def render(report: Report, args: argparse.Namespace, minutes: float) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Filters and cursors: latency as the data grows",
        "",
        f"- Date: {now}; {os.cpu_count()} CPUs; Python {platform.python_version()}",
        f"- Sizes: {args.small:,} and {args.large:,} users (two emails each), "
        f"and a group of up to {GROUP_MEMBERS:,} members; "
        f"whole run {minutes:.0f} min",
        "- Command: `python .ci/with_postgres.py -- .venv/bin/python "
        f"bench/filters.py --small {args.small} --large {args.large} --write`",
        "- Each figure: median of 200 requests through the app in-process "
        "(falcon.testing), after 10 warm-up requests.",
        "",
    ]
    for backend, scenarios_ in report.items():
        lines += [
            f"### {backend}",
            "",
            "| Request | small, ms | large, ms | large ÷ small | Target ≤ 1.5x |",
            "| --- | ---: | ---: | ---: | --- |",
        ]
        for scenario, figures in scenarios_.items():
            ratio = figures["large"] / figures["small"]
            # Pages are judged deep against first below, not across sizes.
            lookup = "page" not in scenario
            verdict = ("pass" if ratio <= TARGET else "miss") if lookup else "—"
            lines.append(
                f"| {scenario} | {figures['small'] * 1000:.2f} | "
                f"{figures['large'] * 1000:.2f} | {ratio:.2f}x | {verdict} |"
            )
        first = scenarios_["cursor page, first (100)"]["large"]
        deep = scenarios_["cursor page at 90% (100)"]["large"]
        verdict = "pass" if deep / first <= TARGET else "miss"
        lines += [
            "",
            f"Cursor page at 90% ÷ first page, at the large size: "
            f"{deep / first:.2f}x (target ≤ 1.5x: {verdict}).",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
