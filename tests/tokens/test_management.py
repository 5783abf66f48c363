"""Listing, revoking, rotating and sweeping tokens; quota; retiring keys."""

from __future__ import annotations

import dataclasses
import datetime

import peewee
import pytest

from storage import audit as audit_store
from storage import tokens as token_store
from storage import users as user_store
from storage.models import AccessToken
from tests.tokens.conftest import DAY, POLICY, events_of, user_fields
from tokens import (
    InvalidToken,
    KeyInUse,
    KeyRing,
    TokenNotFound,
    TokenPolicyError,
    TokenQuotaExceeded,
    find_token,
    issue,
    list_tokens,
    retire_key,
    revoke,
    revoke_unused,
    rotate,
    verify,
)
from tokens import format as token_format
from tokens.keys import KeyFileError

HOUR = datetime.timedelta(hours=1)
ADDRESS = "198.51.100.4"


@pytest.fixture
def bob(db, clock):
    return user_store.create_user(user_fields("bob"), now=clock())


def test_listing_shows_a_users_tokens_oldest_first_and_no_one_elses(
    keys, user, bob, clock
):
    first = issue(keys, POLICY, user_id=user.id, now=clock(), comment="laptop")
    clock.advance(minutes=1)
    second = issue(keys, POLICY, user_id=user.id, now=clock(), scopes=["scim:read"])
    issue(keys, POLICY, user_id=bob.id, now=clock())

    listed = list_tokens(user.id)

    assert [token.id for token in listed] == [first.id, second.id]
    assert (listed[0].hint, listed[0].comment) == (first.hint, "laptop")
    assert (listed[0].scopes, listed[1].scopes) == (None, frozenset({"scim:read"}))
    assert len(list_tokens()) == 3


def test_listing_carries_no_secret_and_no_hash_of_one(keys, user, issued):
    listed = list_tokens(user.id)

    fields = {field.name for field in dataclasses.fields(listed[0])}
    values = " ".join(str(value) for value in dataclasses.astuple(listed[0]))
    assert "secret_hash" not in fields
    assert token_format.parse(issued.token).secret[4:] not in values
    assert AccessToken.get_by_id(issued.id).secret_hash not in values


def test_listing_shows_last_use_and_revocation(keys, user, issued, clock):
    verify(keys, issued.token, now=clock(), address=ADDRESS)
    clock.advance(hours=1)
    revoke(issued.id, now=clock())

    [listed] = list_tokens(user.id)

    assert listed.last_used == clock() - HOUR
    assert listed.last_used_address == ADDRESS
    assert listed.revoked == clock()
    assert not listed.is_live(clock())


def test_revoke_takes_effect_on_the_next_verify(keys, issued, clock):
    verify(keys, issued.token, now=clock())

    revoked = revoke(issued.id, now=clock())

    assert revoked is True
    with pytest.raises(InvalidToken):
        verify(keys, issued.token, now=clock())


def test_revoke_records_who_did_it_and_from_where(keys, user, bob, issued, clock):
    revoke(issued.id, now=clock(), actor_id=bob.id, address=ADDRESS)

    latest = audit_store.list_events(token_id=issued.id)[0]
    assert latest.event == "revoked"
    assert (latest.actor_id, latest.subject_id, latest.address) == (
        bob.id,
        user.id,
        ADDRESS,
    )


def test_revoking_twice_changes_nothing_the_second_time(issued, clock):
    revoke(issued.id, now=clock())
    first_revoked = find_token(issued.id).revoked
    clock.advance(hours=1)

    again = revoke(issued.id, now=clock())

    assert again is False
    assert find_token(issued.id).revoked == first_revoked
    assert events_of(issued.id) == ["created", "revoked"]


def test_revoking_an_unknown_token_raises_token_not_found(db, clock):
    with pytest.raises(TokenNotFound, match="no token 42"):
        revoke(42, now=clock())


def test_rotation_issues_a_working_replacement_with_the_same_comment_and_scopes(
    keys, user, clock
):
    old = issue(
        keys, POLICY, user_id=user.id, now=clock(), comment="ci", scopes=["tokens"]
    )
    clock.advance(days=10)

    new = rotate(keys, POLICY, old.id, now=clock(), grace=DAY)

    replacement = find_token(new.id)
    principal = verify(keys, new.token, now=clock())
    assert (replacement.user_id, replacement.comment) == (user.id, "ci")
    assert principal.scopes == frozenset({"tokens"})
    assert new.expires == clock() + 30 * DAY


def test_rotated_token_keeps_working_for_the_grace_period_only(keys, issued, clock):
    rotate(keys, POLICY, issued.id, now=clock(), grace=2 * HOUR)

    clock.advance(hours=2, microseconds=-1)
    assert verify(keys, issued.token, now=clock()).token_id == issued.id
    clock.advance(microseconds=1)
    with pytest.raises(InvalidToken):
        verify(keys, issued.token, now=clock())


def test_rotation_never_extends_the_old_tokens_life(keys, issued, clock):
    clock.advance(days=29)

    rotate(keys, POLICY, issued.id, now=clock(), grace=7 * DAY)

    assert find_token(issued.id).expires == issued.expires


def test_rotation_with_no_grace_ends_the_old_token_at_once(keys, issued, clock):
    rotate(keys, POLICY, issued.id, now=clock(), grace=datetime.timedelta(0))

    with pytest.raises(InvalidToken):
        verify(keys, issued.token, now=clock())


def test_rotation_is_on_the_record_for_both_tokens(keys, user, bob, issued, clock):
    new = rotate(keys, POLICY, issued.id, now=clock(), grace=HOUR, actor_id=bob.id)

    rotated = audit_store.list_events(token_id=issued.id)[0]
    created = audit_store.list_events(token_id=new.id)[0]
    assert (rotated.event, rotated.actor_id, rotated.subject_id) == (
        "rotated",
        bob.id,
        user.id,
    )
    assert rotated.detail == {
        "replacement": new.id,
        "expires": (clock() + HOUR).isoformat(),
    }
    assert (created.event, created.detail) == ("created", {"replaces": issued.id})


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_a_dead_token_cannot_be_rotated(keys, issued, clock, state):
    if state == "revoked":
        revoke(issued.id, now=clock())
    else:
        clock.advance(days=30)

    with pytest.raises(TokenPolicyError, match="revoked or expired"):
        rotate(keys, POLICY, issued.id, now=clock(), grace=HOUR)

    assert len(list_tokens()) == 1


def test_rotation_refuses_a_negative_grace_period(keys, issued, clock):
    with pytest.raises(TokenPolicyError, match="grace"):
        rotate(keys, POLICY, issued.id, now=clock(), grace=-HOUR)


def test_rotating_an_unknown_token_raises_token_not_found(keys, db, clock):
    with pytest.raises(TokenNotFound):
        rotate(keys, POLICY, 42, now=clock(), grace=HOUR)


QUOTA = dataclasses.replace(POLICY, quota=2)


def test_issue_beyond_the_quota_is_refused_with_a_clear_error(keys, user, clock):
    for _ in range(2):
        issue(keys, QUOTA, user_id=user.id, now=clock())

    with pytest.raises(TokenQuotaExceeded, match="already has 2 live tokens"):
        issue(keys, QUOTA, user_id=user.id, now=clock())

    assert len(list_tokens(user.id)) == 2


def test_quota_counts_live_tokens_only_and_per_user(keys, user, bob, clock):
    revoked = issue(keys, QUOTA, user_id=user.id, now=clock())
    revoke(revoked.id, now=clock())
    issue(keys, QUOTA, user_id=user.id, now=clock(), lifetime=HOUR)
    clock.advance(hours=1)
    issue(keys, QUOTA, user_id=bob.id, now=clock())
    issue(keys, QUOTA, user_id=bob.id, now=clock())

    issue(keys, QUOTA, user_id=user.id, now=clock())
    issue(keys, QUOTA, user_id=user.id, now=clock())

    assert sum(token.is_live(clock()) for token in list_tokens(user.id)) == 2


def test_rotation_is_allowed_at_the_quota(keys, user, clock):
    tokens = [issue(keys, QUOTA, user_id=user.id, now=clock()) for _ in range(2)]

    new = rotate(keys, QUOTA, tokens[0].id, now=clock(), grace=HOUR)

    assert verify(keys, new.token, now=clock()).user_id == user.id


def test_issue_for_a_user_that_does_not_exist_is_refused(keys, db, clock):
    with pytest.raises(TokenPolicyError, match="no user 42"):
        issue(keys, POLICY, user_id=42, now=clock())


def test_issue_stores_nothing_when_its_audit_record_cannot_be_written(
    keys, user, clock, audit_refused
):
    with pytest.raises(peewee.IntegrityError):
        issue(keys, POLICY, user_id=user.id, now=clock())

    assert AccessToken.select().count() == 0


IDLE = dataclasses.replace(POLICY, unused_limit=10 * DAY)


def test_sweep_revokes_tokens_idle_for_the_limit_and_records_each(
    keys, user, bob, clock
):
    never_used = issue(keys, IDLE, user_id=user.id, now=clock())
    used_at_once = issue(keys, IDLE, user_id=bob.id, now=clock())
    used_later = issue(keys, IDLE, user_id=bob.id, now=clock())
    verify(keys, used_at_once.token, now=clock())
    clock.advance(days=5)
    verify(keys, used_later.token, now=clock())
    issued_later = issue(keys, IDLE, user_id=user.id, now=clock())
    clock.advance(days=5)

    revoked = revoke_unused(IDLE, now=clock())

    assert sorted(revoked) == sorted([never_used.id, used_at_once.id])
    assert find_token(used_later.id).revoked is None
    assert find_token(issued_later.id).revoked is None
    for token_id in revoked:
        assert find_token(token_id).revoked == clock()
        assert events_of(token_id)[-1] == "swept"


def test_sweep_is_one_update_however_many_tokens_it_revokes(
    keys, user, bob, clock, sql
):
    for owner in (user, bob, user):
        issue(keys, IDLE, user_id=owner.id, now=clock())
    clock.advance(days=10)

    with sql.capture() as statements:
        revoked = revoke_unused(IDLE, now=clock())

    updates = [s for s in statements if "UPDATE" in s]
    assert len(revoked) == 3
    assert len(updates) == 1


def test_sweep_leaves_revoked_and_expired_tokens_alone(keys, user, clock):
    revoked = issue(keys, IDLE, user_id=user.id, now=clock())
    revoke(revoked.id, now=clock())
    issue(keys, IDLE, user_id=user.id, now=clock(), lifetime=DAY)
    clock.advance(days=10)

    assert revoke_unused(IDLE, now=clock()) == []


def test_sweep_without_an_idleness_limit_revokes_nothing(keys, issued, clock):
    clock.advance(days=29)

    assert revoke_unused(POLICY, now=clock()) == []


def test_verify_with_the_policy_refuses_and_revokes_an_idle_token(keys, issued, clock):
    clock.advance(days=10)

    with pytest.raises(InvalidToken):
        verify(keys, issued.token, now=clock(), policy=IDLE)

    assert find_token(issued.id).revoked == clock()
    assert events_of(issued.id) == ["created", "swept"]


def test_verify_with_the_policy_accepts_a_token_used_within_the_limit(
    keys, issued, clock
):
    clock.advance(days=9)
    verify(keys, issued.token, now=clock(), policy=IDLE)
    clock.advance(days=9)

    principal = verify(keys, issued.token, now=clock(), policy=IDLE)

    assert principal.token_id == issued.id


def test_retiring_a_key_revokes_its_live_tokens_only_when_asked(keys, user, clock):
    old = issue(keys, POLICY, user_id=user.id, now=clock())
    rotated = keys.with_new_key()
    new = issue(rotated, POLICY, user_id=user.id, now=clock())

    with pytest.raises(KeyInUse, match=r"in use by live tokens \(1\)"):
        retire_key(rotated, keys.current, now=clock())
    assert find_token(old.id).revoked is None

    remaining, revoked = retire_key(
        rotated, keys.current, now=clock(), revoke_tokens=True
    )

    assert (list(remaining.keys), revoked) == ([rotated.current], 1)
    assert find_token(old.id).revoked == clock()
    assert audit_store.list_events(token_id=old.id)[0].detail == {
        "reason": "key retired",
        "key_id": keys.current,
    }
    assert verify(remaining, new.token, now=clock()).token_id == new.id


def test_a_key_whose_tokens_are_all_dead_retires_without_revoking(keys, user, clock):
    issue(keys, POLICY, user_id=user.id, now=clock(), lifetime=HOUR)
    rotated = keys.with_new_key()
    clock.advance(hours=1)

    remaining, revoked = retire_key(rotated, keys.current, now=clock())

    assert keys.current not in remaining.keys
    assert revoked == 0


def test_the_current_key_cannot_be_retired(keys, db, clock):
    with pytest.raises(KeyFileError, match="current key"):
        retire_key(keys, keys.current, now=clock(), revoke_tokens=True)


def test_a_key_not_in_the_ring_cannot_be_retired(keys, db, clock):
    with pytest.raises(KeyFileError, match="no key 'nope'"):
        retire_key(keys, "nope", now=clock())


def test_token_counts_do_not_include_other_keys(keys, user, clock):
    issue(keys, POLICY, user_id=user.id, now=clock())
    other = KeyRing.generate()

    assert token_store.count_live_tokens_under_key(other.current, clock()) == 0
    assert token_store.count_live_tokens_under_key(keys.current, clock()) == 1
