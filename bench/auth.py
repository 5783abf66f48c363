"""Measure what verifying the bearer token costs GET /Users/{id}, in one run.

    python bench/auth.py [--quick]
    python3 .ci/with_postgres.py -- .venv/bin/python bench/auth.py

The SCIM server is set up as bench/run.py sets it up (``scim-server init``,
ten thousand users, ``scim-server serve``), and beside it gunicorn serves
bench/auth_app.py, the same app with a pass-through authenticator, with the
same command line on the same database. In each round wrk sends the same
authenticated GET /Users/{id} requests to the pass-through app and then to
the server; the recorded ratio is the median of the rounds' ratios. Then
``tokens.verify`` is timed in-process for the admin's token, on SQLite and,
when ``SCIM_TEST_POSTGRES_URL`` is set, on PostgreSQL. A full run rewrites
this script's section of bench/RESULTS.md; ``--quick`` only prints.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import run
import seed
import servers
import wrk
from cpus import Pinning
from report import Comparison, Pair, Target, replace_section
from run import Plan
from servers import Running
from wrk import Load, Measurement, Scenario

import storage
from scim_server.bootstrap import token_policy
from scim_server.settings import Settings
from storage.database import is_postgresql
from storage.models import ALL_MODELS
from tokens import KeyRing, verify

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
OUT_DIR = BENCH_DIR / "out"
IDS_FILE = OUT_DIR / "auth-user-ids.txt"
START = "<!-- bench/auth.py: start -->"
END = "<!-- bench/auth.py: end -->"

UNVERIFIED_APP = "auth_app:application"
POSTGRES_URL_VARIABLE = "SCIM_TEST_POSTGRES_URL"
USERS = 10_000
USERS_PATH = "/scim/v2/Users"
PROBE_PATH = "/scim/v2/ServiceProviderConfig"

AUTHENTICATED = "GET /Users/{id}, authenticated"
UNVERIFIED = "GET /Users/{id}, pass-through"
# The requirement: authentication may cost at most 15% of the throughput.
TARGET = Target(AUTHENTICATED, UNVERIFIED, 0.85)
ITEM_ARGUMENTS = ("item", wrk.relative(IDS_FILE))

VERIFY_WARMUP_CALLS = 200
VERIFY_CALLS = 1_000
VERIFY_BATCHES = 5
# What the middleware passes as the client's address over loopback.
CLIENT_ADDRESS = "127.0.0.1"


@dataclasses.dataclass(frozen=True)
class HttpRun:
    """Both servers' measurements, one pair per round, and how they ran."""

    comparison: Comparison
    load: Load
    scim: Running


@dataclasses.dataclass(frozen=True)
class VerifyCost:
    """Seconds per ``tokens.verify`` call, one figure per batch."""

    database: str
    per_call: tuple[float, ...]

    @property
    def median_us(self) -> float:
        return statistics.median(self.per_call) * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_arguments(argv)
    wrk_version = wrk.version()
    if wrk_version is None:
        print(f"bench: {wrk.INSTALL_HINT}", file=sys.stderr)
        return 2
    plan = run.QUICK if args.quick else run.FULL
    pinning = Pinning.detect()
    started = datetime.datetime.now(datetime.UTC)
    load_before = os.getloadavg()[0]
    try:
        http, costs = _measure(plan, pinning)
    except (servers.ServerError, wrk.LoadError) as ex:
        print(f"bench: {ex}", file=sys.stderr)
        return 1
    load_after = os.getloadavg()[0]

    section = _markdown(
        plan, pinning, wrk_version, http, costs, started, (load_before, load_after)
    )
    print(section)
    if not plan.quick:
        replace_section(RESULTS, START, END, section)
        print(f"\nWrote {RESULTS}", file=sys.stderr)
    return 1 if http.comparison.ratio is None else 0


def _parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure what token verification costs GET /Users/{id}."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=(
            f"{run.QUICK.rounds} round of {run.QUICK.seconds} s instead of "
            f"{run.FULL.rounds} of {run.FULL.seconds} s, and leave "
            "bench/RESULTS.md alone"
        ),
    )
    return parser.parse_args(argv)


def _measure(plan: Plan, pinning: Pinning) -> tuple[HttpRun, list[VerifyCost]]:
    OUT_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="scim-bench-auth-") as data_dir:
        environ = servers.scim_environ(Path(data_dir))
        token = servers.initialise(environ)
        _progress(f"Seeding {USERS:,} users")
        users = seed.seed_users(environ, USERS)
        IDS_FILE.write_text("".join(f"{user.id}\n" for user in users))
        http = _over_http(plan, pinning, environ, token, str(users[0].id))
        costs = [_verify_cost("SQLite", environ, token)]

    postgres_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if postgres_url:
        with tempfile.TemporaryDirectory(prefix="scim-bench-auth-") as data_dir:
            environ, token = _initialise_postgresql(postgres_url, Path(data_dir))
            costs.append(_verify_cost("PostgreSQL", environ, token))
    return http, costs


def _over_http(
    plan: Plan, pinning: Pinning, environ: dict[str, str], token: str, user_id: str
) -> HttpRun:
    """Each round: the pass-through app, then the server, on the same requests."""
    with (
        servers.scim_server(environ, pinning, OUT_DIR / "auth-scim.log") as scim,
        servers.bench_app_server(
            scim,
            UNVERIFIED_APP,
            environ,
            pinning,
            OUT_DIR / "auth-pass-through.log",
            PROBE_PATH,
        ) as bare,
    ):
        _check_authentication(scim, bare, user_id)
        load = _load(plan, scim)
        pairs = []
        for number in range(1, plan.rounds + 1):
            _progress(f"Round {number} of {plan.rounds}")
            reference = _measure_one(bare, UNVERIFIED, load, pinning, token, number)
            measured = _measure_one(scim, AUTHENTICATED, load, pinning, token, number)
            pairs.append(Pair(reference, measured))
    return HttpRun(Comparison(TARGET, tuple(pairs)), load, scim)


def _load(plan: Plan, server: Running) -> Load:
    # As bench/run.py drives the server: twice as many connections as
    # requests it can work on at once.
    workers = int(server.option("--workers") or 1)
    threads = int(server.option("--threads") or 1)
    return Load(
        connections=2 * workers * threads,
        seconds=plan.seconds,
        warmup_seconds=plan.warmup_seconds,
    )


def _check_authentication(scim: Running, bare: Running, user_id: str) -> None:
    """Refuse to measure unless only the server asks for a token.

    Were the substitution in auth_app.py to stop working, both servers
    would verify tokens, and the ratio would look perfect.
    """
    path = f"{USERS_PATH}/{user_id}"
    if _status(f"{scim.url}{path}") != 401:
        raise servers.ServerError("the SCIM server answered without a token")
    if _status(f"{bare.url}{path}") != 200:
        raise servers.ServerError(
            f"the pass-through app did not answer {path} without a token; "
            f"see {bare.log}"
        )


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as ex:
        return ex.code


def _measure_one(
    server: Running,
    name: str,
    load: Load,
    pinning: Pinning,
    token: str,
    round_number: int,
) -> Measurement:
    _progress(f"  {name}: {load.warmup_seconds} s warm-up, {load.seconds} s measured")
    scenario = Scenario(name, USERS_PATH, ITEM_ARGUMENTS)
    slug = name.rpartition(", ")[2]
    # Both servers get the same requests, bearer token included: the
    # pass-through app only ignores it.
    measurement = wrk.measure(
        scenario,
        server.url,
        load,
        pinning,
        round_number=round_number,
        token=token,
        raw_output=OUT_DIR / f"wrk-auth-{round_number}-{slug}.txt",
    )
    if measurement.failure:
        _progress(f"    FAILED: {measurement.failure}; see {server.log}")
    return measurement


def _verify_cost(database: str, environ: dict[str, str], token: str) -> VerifyCost:
    """Time ``tokens.verify`` as the middleware calls it, in batches."""
    _progress(f"Timing tokens.verify on {database}")
    settings = Settings.from_env(environ)
    keys = KeyRing.load(settings.token_key_file)
    policy = token_policy(settings)
    db = storage.connect(settings.database_url)

    def verify_once() -> None:
        verify(keys, token, now=settings.clock(), address=CLIENT_ADDRESS, policy=policy)

    per_call = []
    # One connection for every call, as a request holds one for its length.
    with db.connection_context():
        for _ in range(VERIFY_WARMUP_CALLS):
            verify_once()
        for _ in range(VERIFY_BATCHES):
            started = time.perf_counter()
            for _ in range(VERIFY_CALLS):
                verify_once()
            per_call.append((time.perf_counter() - started) / VERIFY_CALLS)
    return VerifyCost(database, tuple(per_call))


def _initialise_postgresql(url: str, data_dir: Path) -> tuple[dict[str, str], str]:
    """Empty the database at ``url``, run ``scim-server init`` on it.

    Its tables are dropped first, so give it a database that holds nothing
    else, such as the one ``.ci/with_postgres.py`` creates.
    """
    db = storage.connect(url)
    with db.connection_context():
        db.drop_tables(ALL_MODELS, safe=True, cascade=is_postgresql(db))
    environ = servers.scim_environ(data_dir)
    environ["SCIM_DATABASE_URL"] = url
    return environ, servers.initialise(environ)


def _markdown(
    plan: Plan,
    pinning: Pinning,
    wrk_version: str,
    http: HttpRun,
    costs: Sequence[VerifyCost],
    started: datetime.datetime,
    load_average: tuple[float, float],
) -> str:
    title = "Authentication: GET /Users/{id} with and without verifying the token"
    if plan.quick:
        title += " (quick run, not recorded)"
    return "\n\n".join(
        [
            f"## {title}",
            _context(plan, pinning, wrk_version, http, started, load_average),
            _ratio_table(http.comparison),
            _throughput_table(http.comparison),
            "### tokens.verify in-process",
            _verify_table(costs),
        ]
    )


def _context(
    plan: Plan,
    pinning: Pinning,
    wrk_version: str,
    http: HttpRun,
    started: datetime.datetime,
    load_average: tuple[float, float],
) -> str:
    workers = http.scim.option("--workers") or "1"
    threads = http.scim.option("--threads") or "1"
    worker_class = http.scim.option("--worker-class") or "sync"
    before, after = load_average
    lines = [
        f"Date: {started:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}; "
        f"{platform.python_implementation()} {platform.python_version()}",
        f"Load average (1 min): {before:.2f} before the run, {after:.2f} after it",
        f"Server: `scim-server serve` (gunicorn, {worker_class} workers, "
        f"{workers} worker(s) of {threads} thread(s)); the pass-through app, "
        "bench/auth_app.py, runs the same gunicorn command line on the same "
        f"SQLite database of {USERS:,} seeded users",
        f"Load: {wrk_version.split(' [')[0]}, {http.load.connections} connections, "
        f"{http.load.seconds} s per server after a {http.load.warmup_seconds} s "
        f"warm-up; {plan.rounds} round(s), the pass-through app first in each; "
        f"{pinning.describe()}",
        "Requests: GET /Users/{id} of a seeded user drawn at random, with the "
        "admin's bearer token, alike to both servers",
        f"Command: `{shlex.join(['python', 'bench/auth.py', *sys.argv[1:]])}`",
    ]
    return "\n".join(f"- {line}" for line in lines)


def _ratio_table(comparison: Comparison) -> str:
    ratios = [pair.ratio for pair in comparison.rounds]
    rounds = " / ".join(_percent(ratio) for ratio in ratios)
    return _table(
        ["Ratio", "Median", "Each round", "Target", "Result"],
        [
            [
                "authenticated ÷ pass-through",
                _percent(comparison.ratio),
                rounds,
                f"≥ {TARGET.minimum:.0%}",
                comparison.verdict(),
            ]
        ],
    )


def _throughput_table(comparison: Comparison) -> str:
    rows = []
    for name in (UNVERIFIED, AUTHENTICATED):
        measured = [
            pair.scenario if name == AUTHENTICATED else pair.floor
            for pair in comparison.rounds
        ]
        rates = [m.requests_per_second for m in measured]
        rows.append(
            [
                name,
                f"{statistics.median(rates):,.0f}",
                f"{min(rates):,.0f}, {max(rates):,.0f}",
                f"{statistics.median(m.p50_ms for m in measured):.2f}",
                f"{statistics.median(m.p99_ms for m in measured):.2f}",
            ]
        )
    return _table(["Server", "Requests/s", "Lowest, highest", "p50 ms", "p99 ms"], rows)


def _verify_table(costs: Sequence[VerifyCost]) -> str:
    rows = [
        [
            cost.database,
            f"{cost.median_us:.0f}",
            f"{min(cost.per_call) * 1e6:.0f}, {max(cost.per_call) * 1e6:.0f}",
        ]
        for cost in costs
    ]
    if len(costs) == 1:
        rows.append(
            ["PostgreSQL", f"not measured: {POSTGRES_URL_VARIABLE} not set", ""]
        )
    note = (
        f"Median of {VERIFY_BATCHES} batches of {VERIFY_CALLS:,} calls for the "
        "admin's token, after "
        f"{VERIFY_WARMUP_CALLS} warm-up calls, on one connection, with the "
        "server's token policy; each call looks the token up and may note its "
        "use (a write at most once a minute)."
    )
    table = _table(["Database", "µs per verify", "Fastest, slowest batch"], rows)
    return f"{note}\n\n{table}"


def _percent(ratio: float | None) -> str:
    return "failed" if ratio is None else f"{ratio:.1%}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join(f"| {' | '.join(cells)} |" for cells in lines)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
