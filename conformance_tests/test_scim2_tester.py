"""scim2-tester's checks against the server under test, one test per check.

scim2-tester (https://pypi.org/project/scim2-tester/) runs once per module,
through scim2-client, against the same server and token as the rest of the
suite. Each of its checks cites the RFC 7643 or RFC 7644 section it
verifies, and each test below passes when every result of one check
passed. Where scim2-tester skipped a check, such as the PATCH checks when
/ServiceProviderConfig says PATCH is unsupported, the test is skipped with
scim2-tester's reason.

One check covers many attributes of several resource types, so a failure
that is understood is excused result by result, in ``EXPECTED_FAILURES``,
rather than by marking the whole check: every other result of that check
is still asserted. As with a strict xfail, an expected failure that stops
happening fails the test until its entry is removed.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import CheckResult, Status, check_server, checkers

# SUCCESS meets a MUST, COMPLIANT a SHOULD, ACCEPTABLE uses a MAY; DEVIATION,
# ERROR and CRITICAL are failures.
PASSED = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}

# Every exported check; resource_type_tests only runs the per-resource ones.
CHECKS = sorted(set(checkers.__all__) - {"resource_type_tests"})


@dataclasses.dataclass(frozen=True)
class ExpectedFailure:
    """A failing result of one check on one attribute, understood and reported.

    ``server_bug`` says whose mistake it is: this repository's server's, which
    excuses it only when the suite runs that server, or scim2-tester's,
    which excuses it against any server.
    """

    check: str
    resource_type: str
    attribute: str
    reason: str
    server_bug: bool

    def matches(self, result: CheckResult) -> bool:
        data = result.data if isinstance(result.data, dict) else {}
        return (
            result.title == self.check
            and result.resource_type == self.resource_type
            and data.get("urn") == self.attribute
        )


_READ_ONLY_DISPLAY = (
    "scim2-tester is wrong: it expects members back exactly as it sent them, "
    "but members.display is readOnly (RFC 7643 §2.2) and filled in by the "
    "service provider, which RFC 7644 §3.3 lets alter what a client sent"
)
EXPECTED_FAILURES = [
    ExpectedFailure(
        "check_add_attribute", "Group", "members", _READ_ONLY_DISPLAY, False
    ),
    ExpectedFailure(
        "check_replace_attribute", "Group", "members", _READ_ONLY_DISPLAY, False
    ),
]


@pytest.fixture(scope="module")
def results(client) -> dict[str, list[CheckResult]]:
    """The results of one scim2-tester run, by check name."""
    headers = {"Authorization": f"Bearer {client.token}"}
    with httpx2.Client(base_url=client.base_url, headers=headers, timeout=10) as http:
        outcome = check_server(SyncSCIMClient(http))
    grouped: dict[str, list[CheckResult]] = defaultdict(list)
    for result in outcome:
        grouped[result.title or "(untitled)"].append(result)
    return dict(grouped)


@pytest.mark.parametrize("check", CHECKS)
def test_check_passes(results, own_server, check):
    """Every result of the scim2-tester check passes; the check's own
    documentation cites the RFC requirement it verifies."""
    ran = results.get(check, [])
    _skip_unless_run(check, ran)
    expected = _expected_failures(check, own_server)

    failed = [
        result for result in ran if result.status not in PASSED | {Status.SKIPPED}
    ]

    unexplained = [
        result
        for result in failed
        if not any(known.matches(result) for known in expected)
    ]
    assert not unexplained, "\n".join(_describe(result) for result in unexplained)
    gone = [known for known in expected if not any(known.matches(r) for r in failed)]
    assert not gone, f"expected failures no longer happen, remove them: {gone}"
    if expected:
        pytest.xfail("; ".join(known.reason for known in expected))


def _skip_unless_run(check: str, ran: list[CheckResult]) -> None:
    if not ran:
        pytest.skip(f"scim2-tester's check_server does not run {check}")
    if all(result.status is Status.SKIPPED for result in ran):
        reasons = sorted({result.reason or "no reason given" for result in ran})
        pytest.skip(f"scim2-tester skipped {check}: {'; '.join(reasons)}")


def _expected_failures(check: str, own_server: bool) -> list[ExpectedFailure]:
    return [
        known
        for known in EXPECTED_FAILURES
        if known.check == check and (own_server or not known.server_bug)
    ]


def test_every_result_belongs_to_a_check(results):
    """A result that no check above claims, such as a failure to describe the
    server from its discovery endpoints, is a failure too."""
    unclaimed = [
        result
        for title, ran in results.items()
        if title not in CHECKS
        for result in ran
    ]

    assert not unclaimed, "\n".join(_describe(result) for result in unclaimed)


def _describe(result: CheckResult) -> str:
    where = f" [{result.resource_type}]" if result.resource_type else ""
    data = repr(result.data)[:500] if result.data is not None else ""
    return f"{result.status.name} {result.title}{where}: {result.reason}\n  {data}"
