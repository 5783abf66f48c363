"""What verifying a token records: its last use, and the audit log."""

from __future__ import annotations

import datetime
import re

import pytest

from storage import audit as audit_store
from storage import tokens as token_store
from storage import users as user_store
from storage.audit import AuditRecord
from tests.tokens.conftest import events_of, user_fields
from tokens import InvalidToken, revoke, verify
from tokens import format as token_format
from tokens.verification import UNMATCHED_PER_MINUTE

ADDRESS = "203.0.113.7"
OTHER_ADDRESS = "2001:db8::2"


def unmatched() -> list[AuditRecord]:
    """Audit records that name no token, oldest first."""
    records = audit_store.list_events(limit=10_000)
    return [record for record in reversed(records) if record.token_id is None]


def writes(statements: list[str]) -> list[str]:
    """The statements that change rows, from Peewee's log of (sql, params)."""
    return [s for s in statements if re.match(r"""\(['"](UPDATE|INSERT)""", s)]


def test_first_use_records_time_address_and_one_audit_event(keys, issued, clock):
    verify(keys, issued.token, now=clock(), address=ADDRESS)

    stored = token_store.find_token(issued.id)
    assert (stored.last_used, stored.last_used_address) == (clock(), ADDRESS)
    assert events_of(issued.id) == ["created", "first_used"]


def test_first_use_is_recorded_once(keys, issued, clock):
    verify(keys, issued.token, now=clock(), address=ADDRESS)
    clock.advance(minutes=5)

    verify(keys, issued.token, now=clock(), address=ADDRESS)

    assert events_of(issued.id) == ["created", "first_used"]


@pytest.mark.parametrize(
    ("elapsed", "written"),
    [
        pytest.param({"seconds": 1}, False, id="a-second-later"),
        pytest.param({"seconds": 60}, False, id="exactly-a-minute-later"),
        pytest.param({"seconds": 60, "microseconds": 1}, True, id="over-a-minute"),
        pytest.param({"days": 3}, True, id="days-later"),
    ],
)
def test_later_use_is_written_only_once_the_last_is_over_a_minute_old(
    keys, issued, clock, sql, elapsed, written
):
    first_use = clock()
    verify(keys, issued.token, now=first_use, address=ADDRESS)
    clock.advance(**elapsed)

    with sql.capture() as statements:
        verify(keys, issued.token, now=clock(), address=OTHER_ADDRESS)

    stored = token_store.find_token(issued.id)
    if written:
        assert (stored.last_used, stored.last_used_address) == (clock(), OTHER_ADDRESS)
        assert len(writes(statements)) == 1
    else:
        assert (stored.last_used, stored.last_used_address) == (first_use, ADDRESS)
        assert len(statements) == 1  # the token's row, and nothing else


def test_an_overlong_address_is_cut_to_a_bounded_length(keys, issued, clock):
    verify(keys, issued.token, now=clock(), address="x" * 10_000)

    stored = token_store.find_token(issued.id)
    assert stored.last_used_address == "x" * 64


def test_verify_succeeds_when_the_audit_log_cannot_be_written(
    keys, issued, clock, audit_refused
):
    principal = verify(keys, issued.token, now=clock(), address=ADDRESS)

    assert principal.token_id == issued.id
    assert events_of(issued.id) == ["created"]


@pytest.mark.parametrize("cause", ["revoked", "expired", "unknown"])
def test_refusals_stay_invalid_token_when_the_audit_log_cannot_be_written(
    keys, issued, clock, cause, request
):
    presented = issued.token
    if cause == "revoked":
        revoke(issued.id, now=clock())
    elif cause == "expired":
        clock.advance(days=31)
    else:
        presented = token_format.generate(keys.current)
    request.getfixturevalue("audit_refused")

    with pytest.raises(InvalidToken):
        verify(keys, presented, now=clock(), address=ADDRESS)


def test_an_expired_token_is_recorded_once_however_often_it_is_presented(
    keys, issued, clock
):
    clock.advance(days=30)

    for _ in range(3):
        with pytest.raises(InvalidToken):
            verify(keys, issued.token, now=clock())
        clock.advance(hours=1)

    assert events_of(issued.id) == ["created", "expired"]


def test_a_revoked_token_is_recorded_at_most_once_a_minute(keys, issued, clock):
    revoke(issued.id, now=clock())
    start = clock()

    for second in [0, 30, 59, 61, 90, 200]:
        clock.now = start + datetime.timedelta(seconds=second)
        with pytest.raises(InvalidToken):
            verify(keys, issued.token, now=clock(), address=ADDRESS)

    refusals = [
        record
        for record in audit_store.list_events(token_id=issued.id)
        if record.event == "rejected"
    ]
    assert len(refusals) == 3  # at 0, 61 and 200 seconds
    assert {record.detail["reason"] for record in refusals} == {"revoked"}
    assert {record.address for record in refusals} == {ADDRESS}


def test_a_token_of_an_inactive_owner_is_refused_on_the_record(
    keys, user, issued, clock
):
    user_store.replace_user(user.id, user_fields("alice", active=False), now=clock())

    with pytest.raises(InvalidToken):
        verify(keys, issued.token, now=clock())

    latest = audit_store.list_events(token_id=issued.id)[0]
    assert (latest.event, latest.subject_id) == ("rejected", user.id)
    assert latest.detail == {"reason": "owner inactive"}


def test_an_unknown_token_is_recorded_by_its_hint_alone(keys, issued, clock):
    made_up = token_format.generate(keys.current)

    with pytest.raises(InvalidToken):
        verify(keys, made_up, now=clock(), address=ADDRESS)

    [latest] = unmatched()
    assert latest.event == "rejected"
    assert latest.detail == {
        "hint": token_format.hint(made_up),
        "reason": "no such token",
    }
    assert latest.address == ADDRESS


def test_unknown_tokens_are_recorded_up_to_a_budget_a_minute(keys, clock):
    earlier = AuditRecord(at=clock(), event="rejected", detail={"reason": "test"})
    audit_store.append([earlier] * UNMATCHED_PER_MINUTE)
    clock.advance(seconds=59)

    for _ in range(2):
        with pytest.raises(InvalidToken):
            verify(keys, token_format.generate(keys.current), now=clock())
    within_the_minute = len(unmatched())
    clock.advance(seconds=2)
    with pytest.raises(InvalidToken):
        verify(keys, token_format.generate(keys.current), now=clock())

    assert within_the_minute == UNMATCHED_PER_MINUTE
    assert len(unmatched()) == UNMATCHED_PER_MINUTE + 1


def test_no_audit_record_holds_a_secret(db, keys, user, issued, clock):
    made_up = token_format.generate(keys.current)
    verify(keys, issued.token, now=clock(), address=ADDRESS)
    with pytest.raises(InvalidToken):
        verify(keys, made_up, now=clock())
    revoke(issued.id, now=clock(), actor_id=user.id)
    with pytest.raises(InvalidToken):
        verify(keys, issued.token, now=clock())

    cursor = db.execute_sql("SELECT * FROM audit_event")
    stored = " ".join(str(value) for row in cursor.fetchall() for value in row)

    assert events_of(issued.id) == ["created", "first_used", "revoked", "rejected"]
    for token in (issued.token, made_up):
        assert token_format.parse(token).secret[4:] not in stored
