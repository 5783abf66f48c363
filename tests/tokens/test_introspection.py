"""Introspection answers (RFC 7662 §2.2), without HTTP."""

from __future__ import annotations

import pytest

from storage import groups as group_store
from storage.records import GroupFields
from tests.tokens.conftest import DAY, POLICY
from tokens import TokenPolicy, find_token, introspect, issue, revoke
from tokens import format as token_format


def add_to_group(user_id, name, clock):
    fields = GroupFields(display_name=name, document={}, search={})
    group = group_store.create_group(fields, [], now=clock())
    group_store.add_members(group.id, [user_id], now=clock())


def test_an_active_token_is_described_with_its_owner_and_groups(keys, user, clock):
    issued = issue(
        keys, POLICY, user_id=user.id, now=clock(), scopes=["scim:read", "tokens"]
    )
    add_to_group(user.id, "Engineering", clock)
    add_to_group(user.id, "Berlin", clock)

    answer = introspect(keys, issued.token, now=clock())

    assert answer == {
        "active": True,
        "token_type": "Bearer",
        "scope": "scim:read tokens",
        "client_id": str(issued.id),
        "jti": str(issued.id),
        "sub": str(user.id),
        "username": "alice",
        "iat": int(clock().timestamp()),
        "exp": int((clock() + 30 * DAY).timestamp()),
        "groups": ["Berlin", "Engineering"],
    }


def test_a_token_with_full_rights_lists_every_scope_and_no_expiry_if_none(
    keys, user, clock
):
    forever = TokenPolicy(default_lifetime=None, max_lifetime=None)
    issued = issue(keys, forever, user_id=user.id, now=clock())

    answer = introspect(keys, issued.token, now=clock())

    assert answer["scope"] == "introspect scim:read scim:write tokens"
    assert "exp" not in answer
    assert answer["groups"] == []


@pytest.mark.parametrize("cause", ["revoked", "expired", "unknown", "garbage"])
def test_anything_that_would_not_verify_is_only_inactive(keys, issued, clock, cause):
    presented = issued.token
    if cause == "revoked":
        revoke(issued.id, now=clock())
    elif cause == "expired":
        clock.advance(days=30)
    elif cause == "unknown":
        presented = token_format.generate(keys.current)
    else:
        presented = "not a token"

    assert introspect(keys, presented, now=clock()) == {"active": False}


def test_introspection_counts_as_a_use_without_an_address(keys, issued, clock):
    introspect(keys, issued.token, now=clock())

    stored = find_token(issued.id)
    assert (stored.last_used, stored.last_used_address) == (clock(), None)
