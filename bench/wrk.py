"""Driving wrk with ``bench/scenarios.lua`` and reading what it reports."""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

from cpus import Pinning

# wrk runs in the repository's root, and the paths it is given are relative
# to it, so that every command line printed can be pasted and run again there.
ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "bench/scenarios.lua"

INSTALL_HINT = (
    "wrk is not installed. On Debian or Ubuntu: sudo apt-get install -y wrk; "
    "elsewhere, build it from https://github.com/wg/wrk"
)
THREADS = 1
REQUEST_TIMEOUT = "10s"
# wrk is asked to stop after its duration; this much more is allowed for it
# to start, drain and print before it is treated as hung.
EXIT_GRACE_SECONDS = 60


def relative(path: Path) -> str:
    """``path`` as wrk is given it: relative to the repository's root."""
    return str(path.relative_to(ROOT))


class LoadError(RuntimeError):
    """wrk failed to run, or printed no result that could be read."""


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One kind of request, sent to ``path`` on the SCIM server or the floor.

    ``arguments`` go to scenarios.lua after ``--``, followed by a label such
    as ``measure-2``: the phase, ``warmup`` or ``measure``, and the round.
    """

    name: str
    path: str
    arguments: tuple[str, ...]
    floor: bool = False


@dataclasses.dataclass(frozen=True)
class Load:
    """How hard and how long each scenario is driven."""

    connections: int
    seconds: int
    warmup_seconds: int


@dataclasses.dataclass(frozen=True)
class Measurement:
    scenario: Scenario
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    first_non_2xx: int
    socket_errors: int

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failure(self) -> str | None:
        """Why this measurement cannot be trusted, or None if it can."""
        if self.non_2xx:
            return (
                f"{self.non_2xx} responses outside 2xx "
                f"(the first was {self.first_non_2xx})"
            )
        if self.socket_errors:
            return f"{self.socket_errors} socket errors or timeouts"
        if not self.requests:
            return "no request completed"
        return None


def version() -> str | None:
    """wrk's version line, or None when wrk is not installed."""
    program = shutil.which("wrk")
    if program is None:
        return None
    # wrk prints its version and then its usage, and exits with 1.
    result = subprocess.run(
        [program, "--version"], capture_output=True, text=True, timeout=10, check=False
    )
    return result.stdout.splitlines()[0].strip() if result.stdout else "wrk"


def measure(
    scenario: Scenario,
    base_url: str,
    load: Load,
    pinning: Pinning,
    *,
    round_number: int,
    token: str | None = None,
    raw_output: Path,
) -> Measurement:
    """Warm the server up with ``scenario``, then measure it.

    wrk's own report of the measured run is saved in ``raw_output``.
    """
    _run(scenario, base_url, load, pinning, token, "warmup", round_number)
    output = _run(scenario, base_url, load, pinning, token, "measure", round_number)
    raw_output.write_text(output)
    return _parse(scenario, output)


def command(
    scenario: Scenario,
    base_url: str,
    load: Load,
    pinning: Pinning,
    phase: str,
    round_number: int,
) -> list[str]:
    """The wrk command line for one phase of ``scenario`` in one round."""
    seconds = load.seconds if phase == "measure" else load.warmup_seconds
    return [
        *pinning.load_prefix(),
        "wrk",
        f"--threads={THREADS}",
        f"--connections={load.connections}",
        f"--duration={seconds}s",
        f"--timeout={REQUEST_TIMEOUT}",
        f"--script={SCRIPT}",
        f"{base_url}{scenario.path}",
        "--",
        *scenario.arguments,
        f"{phase}-{round_number}",
    ]


def _run(
    scenario: Scenario,
    base_url: str,
    load: Load,
    pinning: Pinning,
    token: str | None,
    phase: str,
    round_number: int,
) -> str:
    argv = command(scenario, base_url, load, pinning, phase, round_number)
    # The token travels in the environment so that it never shows in ps or in
    # the command lines this benchmark prints.
    environ = {**os.environ, "BENCH_TOKEN": token or ""}
    limit = load.seconds + load.warmup_seconds + EXIT_GRACE_SECONDS
    try:
        result = subprocess.run(
            argv,
            cwd=ROOT,
            env=environ,
            capture_output=True,
            text=True,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired as ex:
        raise LoadError(f"wrk did not finish in {limit} s: {shlex.join(argv)}") from ex
    if result.returncode != 0:
        raise LoadError(
            f"wrk exited with {result.returncode}: {shlex.join(argv)}\n{result.stderr}"
        )
    return result.stdout


def _parse(scenario: Scenario, output: str) -> Measurement:
    report = _last_json_line(output)
    return Measurement(
        scenario=scenario,
        requests=int(report["requests"]),
        seconds=report["duration_us"] / 1e6,
        p50_ms=report["p50_us"] / 1e3,
        p99_ms=report["p99_us"] / 1e3,
        non_2xx=int(report["non_2xx"]),
        first_non_2xx=int(report["first_non_2xx"]),
        socket_errors=int(report["socket_errors"]),
    )


def _last_json_line(output: str) -> dict[str, Any]:
    for line in reversed(output.splitlines()):
        if line.startswith("{"):
            parsed: dict[str, Any] = json.loads(line)
            return parsed
    raise LoadError(f"wrk printed no result line:\n{output}")
