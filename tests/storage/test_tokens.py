"""Token and audit queries in storage, on both databases."""

from __future__ import annotations

import datetime

import pytest

from storage import audit as audit_store
from storage import tokens as token_store
from storage import users as user_store
from storage.audit import AuditRecord
from tests.tokens.conftest import user_fields

pytestmark = pytest.mark.usefixtures("db")

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def token_id(clock) -> int:
    user = user_store.create_user(user_fields("alice"), now=clock())
    return token_store.insert_token(
        user_id=user.id,
        key_id="k1",
        secret_hash="0" * 64,
        hint="scimpat_k1_abcd...",
        comment=None,
        created=clock(),
        expires=clock() + 10 * MINUTE,
        scopes=frozenset({"tokens", "scim:read"}),
    )


def test_a_token_reads_back_as_it_was_stored(token_id, clock):
    stored = token_store.find_token(token_id)

    assert stored.scopes == frozenset({"scim:read", "tokens"})
    assert (stored.created, stored.expires) == (clock(), clock() + 10 * MINUTE)
    assert (stored.revoked, stored.last_used, stored.last_used_address) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        pytest.param(5, 5, id="sooner-lowers"),
        pytest.param(10, 10, id="same-stays"),
        pytest.param(20, 10, id="later-never-raises"),
    ],
)
def test_lower_expiry_only_ever_brings_expiry_forward(token_id, clock, until, expected):
    token_store.lower_expiry(token_id, clock() + until * MINUTE)

    assert token_store.find_token(token_id).expires == clock() + expected * MINUTE


def test_lower_expiry_gives_a_token_that_never_expires_an_expiry(clock):
    user = user_store.create_user(user_fields("bob"), now=clock())
    forever = token_store.insert_token(
        user_id=user.id,
        key_id="k1",
        secret_hash="1" * 64,
        hint="scimpat_k1_efgh...",
        comment=None,
        created=clock(),
        expires=None,
    )

    token_store.lower_expiry(forever, clock() + MINUTE)

    assert token_store.find_token(forever).expires == clock() + MINUTE


def test_a_rejection_is_noted_once_per_interval(token_id, clock):
    first = token_store.record_rejection(token_id, clock(), unless_since=clock())
    again = token_store.record_rejection(
        token_id, clock() + MINUTE, unless_since=clock()
    )
    later = token_store.record_rejection(
        token_id, clock() + 2 * MINUTE, unless_since=clock() + MINUTE
    )

    assert (first, again, later) == (True, False, True)


def test_the_first_use_is_noted_by_one_caller_only(token_id, clock):
    first = token_store.record_first_use(token_id, clock(), "192.0.2.1")
    second = token_store.record_first_use(token_id, clock(), "192.0.2.2")

    assert (first, second) == (True, False)
    assert token_store.find_token(token_id).last_used_address == "192.0.2.1"


def test_audit_records_read_back_newest_first_with_their_detail(clock):
    records = [
        AuditRecord(at=clock(), event="created", token_id=1, subject_id=2),
        AuditRecord(
            at=clock() + MINUTE,
            event="rejected",
            address="192.0.2.9",
            detail={"hint": "scimpat_k1_abcd...", "reason": "no such token"},
        ),
    ]

    audit_store.append(records)

    assert audit_store.list_events() == list(reversed(records))
    assert audit_store.list_events(token_id=1) == records[:1]
    assert audit_store.list_events(since=clock() + MINUTE) == records[1:]


def test_counting_events_without_a_token_stops_at_the_limit(clock):
    unmatched = AuditRecord(at=clock(), event="rejected")
    matched = AuditRecord(at=clock(), event="rejected", token_id=5)
    audit_store.append([unmatched] * 5 + [matched] * 5)

    assert audit_store.count_events_without_token("rejected", clock(), 3) == 3
    assert audit_store.count_events_without_token("rejected", clock(), 10) == 5
    assert audit_store.count_events_without_token("created", clock(), 10) == 0
    later = clock() + MINUTE
    assert audit_store.count_events_without_token("rejected", later, 10) == 0
