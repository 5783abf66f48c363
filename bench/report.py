"""What a run measured, as Markdown for the terminal and for bench/RESULTS.md."""

from __future__ import annotations

import dataclasses
import datetime
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path

from wrk import Measurement, Scenario

BEGIN = "<!-- Written by bench/run.py from here to the end marker; edit outside. -->"
END = "<!-- End of the part written by bench/run.py. -->"

RESULTS_PREAMBLE = """\
# Benchmark results

The latest full run of `python bench/run.py`; bench/README.md says what each
scenario does and how to read the ratios. The script rewrites only the part
between its markers, so notes on why a number is what it is belong outside
them.

"""


@dataclasses.dataclass(frozen=True)
class Target:
    """The least fraction of the floor's throughput a scenario should reach."""

    scenario: str
    floor: str
    minimum: float


@dataclasses.dataclass(frozen=True)
class Pair:
    """A SCIM scenario and its floor, measured one right after the other."""

    floor: Measurement
    scenario: Measurement

    @property
    def ratio(self) -> float | None:
        """The scenario's share of the floor's throughput, if both can be trusted."""
        if self.floor.failure or self.scenario.failure:
            return None
        return self.scenario.requests_per_second / self.floor.requests_per_second


@dataclasses.dataclass(frozen=True)
class Comparison:
    """A target and its pair of measurements from each round of a run.

    The ratio is the median of the rounds' ratios: a burst of other work on
    the machine spoils one round, and the median leaves it out.
    """

    target: Target
    rounds: tuple[Pair, ...]

    @property
    def ratio(self) -> float | None:
        """None when any measurement failed, so no ratio can be trusted."""
        ratios = [pair.ratio for pair in self.rounds]
        if any(ratio is None for ratio in ratios):
            return None
        return statistics.median(ratio for ratio in ratios if ratio is not None)

    @property
    def passed(self) -> bool:
        return self.ratio is not None and self.ratio >= self.target.minimum

    def verdict(self) -> str:
        if self.ratio is None:
            return "not measured: a scenario failed"
        if self.passed:
            return "pass"
        points = (self.target.minimum - self.ratio) * 100
        factor = self.target.minimum / self.ratio if self.ratio else float("inf")
        return f"miss by {points:.1f} points: needs {factor:.2f}x its throughput"


@dataclasses.dataclass(frozen=True)
class Context:
    """Where and when a run was made, to judge its numbers by."""

    started: datetime.datetime
    command: str
    quick: bool
    machine: str
    python: str
    load_before: float
    load_after: float
    pinning: str
    users: int
    rounds: int


@dataclasses.dataclass(frozen=True)
class Setup:
    """How the servers ran and how hard they were driven."""

    server: str
    load: str
    wrk_command: str


@dataclasses.dataclass(frozen=True)
class Result:
    """Every measurement of one scenario in a run; figures are medians."""

    scenario: Scenario
    measurements: tuple[Measurement, ...]

    @property
    def requests_per_second(self) -> float:
        return statistics.median(m.requests_per_second for m in self.measurements)

    @property
    def p50_ms(self) -> float:
        return statistics.median(m.p50_ms for m in self.measurements)

    @property
    def p99_ms(self) -> float:
        return statistics.median(m.p99_ms for m in self.measurements)

    @property
    def failure(self) -> str | None:
        """Why this scenario cannot be trusted, or None if it can."""
        return next((m.failure for m in self.measurements if m.failure), None)


def results(comparisons: Sequence[Comparison]) -> list[Result]:
    """Each scenario's measurements, floors included, in the order first run."""
    by_scenario: dict[Scenario, list[Measurement]] = {}
    for comparison in comparisons:
        for pair in comparison.rounds:
            for measurement in (pair.floor, pair.scenario):
                by_scenario.setdefault(measurement.scenario, []).append(measurement)
    return [Result(scenario, tuple(runs)) for scenario, runs in by_scenario.items()]


def markdown(context: Context, setup: Setup, comparisons: Sequence[Comparison]) -> str:
    title = "Quick run (not recorded)" if context.quick else "Latest run"
    return "\n\n".join(
        [
            f"## {title}",
            _context_list(context, setup),
            "### Against the floor",
            _comparison_table(comparisons),
            "### Throughput and latency",
            _result_table(results(comparisons)),
        ]
    )


def write_results(path: Path, section: str) -> None:
    """Put run.py's ``section`` between its markers in ``path``."""
    replace_section(path, BEGIN, END, f"\n{section}\n")


def replace_section(path: Path, begin: str, end: str, section: str) -> None:
    """Put ``section`` between ``begin`` and ``end`` in ``path``, keep the rest.

    Each benchmark script owns one marked section of RESULTS.md; a section
    not there yet is appended. The file is read right before it is written,
    since other scripts write their own sections of it.
    """
    block = f"{begin}\n{section.strip(chr(10))}\n{end}"
    text = path.read_text() if path.exists() else RESULTS_PREAMBLE
    start, stop = text.find(begin), text.find(end)
    if start != -1 and stop > start:
        text = text[:start] + block + text[stop + len(end) :]
    else:
        text = f"{text.rstrip()}\n\n{block}\n"
    path.write_text(text)


def _context_list(context: Context, setup: Setup) -> str:
    started = context.started.strftime("%Y-%m-%d %H:%M UTC")
    items = [
        f"Date: {started}",
        f"Machine: {context.machine}",
        f"Python: {context.python}",
        (
            "Load average (1 min), a sign of other work on the machine: "
            f"{context.load_before:.2f} before the run, "
            f"{context.load_after:.2f} after it"
        ),
        f"Server: {setup.server}",
        (
            f"Data: SQLite, {context.users:,} seeded users, and more as each "
            "round's POST scenario adds them"
        ),
        (
            f"Load: {setup.load}; {_plural(context.rounds, 'round')}, in each of "
            "which every SCIM scenario runs right after its floor"
        ),
        f"Pinning: {context.pinning}",
        f"Command: `{context.command}`",
        f"Each scenario, in round 1: `{setup.wrk_command}`",
    ]
    return "\n".join(f"- {item}" for item in items)


def _result_table(results: Sequence[Result]) -> str:
    rows = [
        [
            result.scenario.name,
            f"{result.requests_per_second:,.0f}",
            _range(m.requests_per_second for m in result.measurements),
            f"{result.p50_ms:.2f}",
            f"{result.p99_ms:.2f}",
            f"`{' '.join(result.scenario.arguments)}`",
            result.failure or "ok",
        ]
        for result in results
    ]
    header = ["Scenario", "Requests/s", "Lowest, highest", "p50 ms", "p99 ms"]
    return _table([*header, "Script args", "Status"], rows, numeric={1, 2, 3, 4})


def _comparison_table(comparisons: Sequence[Comparison]) -> str:
    rows = [
        [
            f"{comparison.target.scenario} ÷ {comparison.target.floor}",
            _percent(comparison.ratio),
            " / ".join(_percent(pair.ratio) for pair in comparison.rounds),
            f"≥ {comparison.target.minimum:.0%}",
            comparison.verdict(),
        ]
        for comparison in comparisons
    ]
    header = ["Ratio", "Median", "Each round", "Target", "Result"]
    return _table(header, rows, numeric={1, 2, 3})


def _percent(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.1%}"


def _range(values: Iterable[float]) -> str:
    ordered = sorted(values)
    return f"{ordered[0]:,.0f}, {ordered[-1]:,.0f}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: set[int]
) -> str:
    """A Markdown table padded to line up in a terminal as well."""
    widths = [
        max(len(line[column]) for line in [header, *rows])
        for column in range(len(header))
    ]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if column in numeric else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [
        "-" * (width - 1) + ":" if column in numeric else "-" * width
        for column, width in enumerate(widths)
    ]
    return "\n".join([line(header), line(rule), *(line(row) for row in rows)])
