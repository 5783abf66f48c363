"""Issuing and verifying tokens against the database, on a fixed clock."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging
from collections.abc import Callable

import pytest

from storage import groups as group_store
from storage import tokens as token_store
from storage import users as user_store
from storage.models import AccessToken
from storage.records import GroupFields, UserRecord
from tests.conftest import FixedClock
from tests.tokens.conftest import DAY, POLICY, user_fields
from tokens import (
    InvalidToken,
    IssuedToken,
    KeyRing,
    Principal,
    TokenPolicy,
    TokenPolicyError,
    issue,
    verify,
)
from tokens import format as token_format

MICROSECOND = datetime.timedelta(microseconds=1)


def group_fields(display_name: str) -> GroupFields:
    return GroupFields(display_name=display_name, document={}, search={})


def test_verify_names_the_owner_of_an_issued_token(keys, user, issued, clock):
    principal = verify(keys, issued.token, now=clock())

    assert principal == Principal(
        user_id=user.id,
        user_name="alice",
        token_id=issued.id,
        is_admin=False,
        scopes=None,
        created=clock(),
        expires=clock() + 30 * DAY,
    )


def test_token_verifies_until_the_instant_it_expires(keys, issued, clock):
    clock.advance(days=30, microseconds=-1)

    principal = verify(keys, issued.token, now=clock())

    assert principal.token_id == issued.id


@pytest.mark.parametrize(
    "elapsed",
    [
        pytest.param({"days": 30}, id="at-expiry"),
        pytest.param({"days": 30, "microseconds": 1}, id="just-after"),
        pytest.param({"days": 365}, id="long-after"),
    ],
)
def test_token_is_refused_from_the_instant_it_expires(keys, issued, clock, elapsed):
    clock.advance(**elapsed)

    with pytest.raises(InvalidToken):
        verify(keys, issued.token, now=clock())


def test_token_issued_under_an_older_key_still_in_the_ring_verifies(user, clock):
    old = KeyRing.generate()
    issued = issue(old, POLICY, user_id=user.id, now=clock())
    rotated = KeyRing(current="next", keys={**old.keys, "next": b"n" * 32})

    principal = verify(rotated, issued.token, now=clock())

    assert principal.token_id == issued.id


@dataclasses.dataclass
class Scene:
    """An issued token and everything a cause of refusal may change."""

    keys: KeyRing
    user: UserRecord
    issued: IssuedToken
    clock: FixedClock


def _malformed(scene: Scene) -> tuple[KeyRing, str]:
    return scene.keys, scene.issued.token[:-1]


def _never_issued(scene: Scene) -> tuple[KeyRing, str]:
    return scene.keys, token_format.generate(scene.keys.current)


def _unknown_key_id(scene: Scene) -> tuple[KeyRing, str]:
    return scene.keys, token_format.generate("retired")


def _key_removed_from_ring(scene: Scene) -> tuple[KeyRing, str]:
    return KeyRing(current="next", keys={"next": b"n" * 32}), scene.issued.token


def _expired(scene: Scene) -> tuple[KeyRing, str]:
    scene.clock.advance(days=30)
    return scene.keys, scene.issued.token


def _revoked(scene: Scene) -> tuple[KeyRing, str]:
    (
        AccessToken.update(revoked=scene.clock())
        .where(AccessToken.id == scene.issued.id)
        .execute()
    )
    return scene.keys, scene.issued.token


def _owner_deactivated(scene: Scene) -> tuple[KeyRing, str]:
    fields = user_fields(scene.user.user_name, active=False)
    user_store.replace_user(scene.user.id, fields, now=scene.clock())
    return scene.keys, scene.issued.token


def _owner_deleted(scene: Scene) -> tuple[KeyRing, str]:
    user_store.delete_user(scene.user.id)
    return scene.keys, scene.issued.token


CAUSES = [
    _malformed,
    _never_issued,
    _unknown_key_id,
    _key_removed_from_ring,
    _expired,
    _revoked,
    _owner_deactivated,
    _owner_deleted,
]


@pytest.fixture(params=CAUSES, ids=lambda cause: cause.__name__.strip("_"))
def refused(request, keys, user, issued, clock) -> tuple[KeyRing, str]:
    """A ring and a token that it must refuse, for each cause of refusal."""
    cause: Callable[[Scene], tuple[KeyRing, str]] = request.param
    return cause(Scene(keys, user, issued, clock))


def test_every_refusal_is_the_same_opaque_invalid_token(refused, clock):
    ring, presented = refused

    with pytest.raises(InvalidToken) as excinfo:
        verify(ring, presented, now=clock())

    error = excinfo.value
    assert type(error) is InvalidToken
    assert str(error) == ""
    # A traceback of the error must not show the parsing or lookup error
    # behind it either.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def test_every_refusal_logs_a_reason_at_debug_but_never_the_token(
    refused, clock, caplog
):
    ring, presented = refused

    with (
        caplog.at_level(logging.DEBUG, logger="tokens"),
        pytest.raises(InvalidToken),
    ):
        verify(ring, presented, now=clock())

    # The fixture's own writes ran in the setup phase, whose records
    # caplog.records leaves out: these are the act step's alone.
    rejections = [r for r in caplog.records if r.name == "tokens.verification"]
    assert [r.levelno for r in rejections] == [logging.DEBUG]
    assert rejections[0].getMessage().startswith("token rejected: ")
    assert presented not in caplog.text


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda token, key_id: token, id="token-in-clear"),
        pytest.param(
            lambda token, key_id: hashlib.sha256(token.encode()).hexdigest(),
            id="unkeyed-sha256",
        ),
        pytest.param(
            lambda token, key_id: KeyRing(
                current=key_id, keys={key_id: b"guessed key".ljust(32)}
            ).hash(token, key_id),
            id="hmac-under-another-key-with-the-same-id",
        ),
    ],
)
def test_token_written_straight_into_the_database_does_not_verify(
    keys, user, clock, forge
):
    # Someone who can write to the database but does not hold the key file
    # cannot plant a token that works.
    token = token_format.generate(keys.current)
    token_store.insert_token(
        user_id=user.id,
        key_id=keys.current,
        secret_hash=forge(token, keys.current),
        hint=token_format.hint(token),
        comment=None,
        created=clock(),
        expires=None,
    )

    with pytest.raises(InvalidToken):
        verify(keys, token, now=clock())


@pytest.mark.parametrize(
    ("default", "maximum", "lifetime", "expected"),
    [
        pytest.param(30 * DAY, 90 * DAY, None, 30 * DAY, id="default-applied"),
        pytest.param(30 * DAY, 90 * DAY, 7 * DAY, 7 * DAY, id="asked-for"),
        pytest.param(30 * DAY, 90 * DAY, 90 * DAY, 90 * DAY, id="maximum-itself"),
        pytest.param(None, 90 * DAY, 7 * DAY, 7 * DAY, id="no-default"),
        pytest.param(30 * DAY, None, 999 * DAY, 999 * DAY, id="no-maximum"),
        pytest.param(None, None, None, None, id="never-expires"),
    ],
)
def test_policy_expiry(clock, default, maximum, lifetime, expected):
    policy = TokenPolicy(default_lifetime=default, max_lifetime=maximum)

    expires = policy.expiry(clock(), lifetime)

    assert expires == (None if expected is None else clock() + expected)


@pytest.mark.parametrize(
    ("default", "maximum", "lifetime", "message"),
    [
        pytest.param(
            30 * DAY, 90 * DAY, 91 * DAY, "may not exceed 90 days", id="above-maximum"
        ),
        pytest.param(
            30 * DAY,
            90 * DAY,
            90 * DAY + MICROSECOND,
            "may not exceed 90 days",
            id="just-above-maximum",
        ),
        pytest.param(
            None, 90 * DAY, None, "may not exceed 90 days", id="never-over-maximum"
        ),
        pytest.param(
            30 * DAY,
            90 * DAY,
            datetime.timedelta(0),
            "must be positive",
            id="zero",
        ),
        pytest.param(30 * DAY, 90 * DAY, -DAY, "must be positive", id="negative"),
        pytest.param(
            datetime.timedelta(0), None, None, "must be positive", id="zero-default"
        ),
    ],
)
def test_policy_refuses_rather_than_shortens(
    clock, default, maximum, lifetime, message
):
    policy = TokenPolicy(default_lifetime=default, max_lifetime=maximum)

    with pytest.raises(TokenPolicyError, match=message):
        policy.expiry(clock(), lifetime)


def test_issue_stores_the_expiry_of_the_default_lifetime(keys, user, clock):
    issued = issue(keys, POLICY, user_id=user.id, now=clock())

    stored = AccessToken.get_by_id(issued.id)

    assert issued.expires == clock() + 30 * DAY
    assert stored.expires == issued.expires


def test_issue_refuses_a_lifetime_above_the_maximum_and_stores_nothing(
    keys, user, clock
):
    with pytest.raises(TokenPolicyError):
        issue(keys, POLICY, user_id=user.id, now=clock(), lifetime=91 * DAY)

    assert AccessToken.select().count() == 0


def test_repr_of_an_issued_token_shows_its_hint_but_not_its_secret():
    token = token_format.generate("k1")
    issued = IssuedToken(id=7, token=token, hint=token_format.hint(token), expires=None)

    shown = [repr(issued), str(issued), f"{issued!r}"]

    for text in shown:
        assert issued.hint in text
        assert token_format.parse(token).secret not in text


def test_database_keeps_a_hash_of_the_token_not_the_token(db, keys, user, issued):
    secret = token_format.parse(issued.token).secret

    cursor = db.execute_sql("SELECT * FROM access_token")
    stored = [str(value) for row in cursor.fetchall() for value in row]

    assert issued.hint in stored
    assert not [value for value in stored if secret in value]


@pytest.fixture
def groups(user, clock) -> dict[str, int]:
    """Groups a token's owner may join, by what makes each one special."""
    admins = group_store.create_group(
        group_fields("Administrators"), [], now=clock(), builtin="admins"
    )
    users = group_store.create_group(
        group_fields("users"), [], now=clock(), builtin="users"
    )
    # Admin rights come from the built-in group, never from a group's name.
    impostor = group_store.create_group(group_fields("admins"), [], now=clock())
    return {"admins": admins.id, "users": users.id, "named-admins": impostor.id}


@pytest.mark.parametrize(
    ("joined", "is_admin"),
    [
        pytest.param([], False, id="no-group"),
        pytest.param(["admins"], True, id="built-in-admins"),
        pytest.param(["users"], False, id="built-in-users"),
        pytest.param(["named-admins"], False, id="group-named-admins"),
        pytest.param(["users", "admins"], True, id="admins-among-others"),
    ],
)
def test_admin_flag_is_set_for_members_of_the_built_in_admins_group_only(
    keys, user, issued, groups, clock, joined, is_admin
):
    for name in joined:
        group_store.add_members(groups[name], [user.id], now=clock())

    principal = verify(keys, issued.token, now=clock())

    assert principal.is_admin is is_admin


def test_admin_flag_is_cleared_as_soon_as_the_owner_leaves_admins(
    keys, user, issued, groups, clock
):
    group_store.add_members(groups["admins"], [user.id], now=clock())
    group_store.replace_group(
        groups["admins"], group_fields("Administrators"), [], now=clock()
    )

    principal = verify(keys, issued.token, now=clock())

    assert principal.is_admin is False
