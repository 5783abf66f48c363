"""Scopes: which names a token may be issued with, and what it carries."""

from __future__ import annotations

import pytest

from storage.models import AccessToken
from tests.tokens.conftest import POLICY
from tokens import TokenPolicyError, issue, verify
from tokens.scopes import ALL_SCOPES, parse_scopes, within


def test_the_documented_scopes_exist():
    assert {"scim:read", "scim:write", "tokens", "introspect"} == ALL_SCOPES


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        pytest.param(None, None, id="none-is-full-rights"),
        pytest.param(["scim:read"], {"scim:read"}, id="one"),
        pytest.param(["tokens", "scim:read"], {"scim:read", "tokens"}, id="two"),
        pytest.param(["scim:read scim:write"], {"scim:read", "scim:write"}, id="oauth"),
        pytest.param(["tokens", "tokens"], {"tokens"}, id="repeated"),
    ],
)
def test_parse_scopes(requested, expected):
    parsed = parse_scopes(requested)

    assert parsed == (None if expected is None else frozenset(expected))


@pytest.mark.parametrize(
    ("requested", "message"),
    [
        pytest.param(["admin"], "unknown scope admin", id="unknown"),
        pytest.param(["SCIM:READ"], "unknown scope SCIM:READ", id="wrong-case"),
        pytest.param(["scim:read", "write"], "unknown scope write", id="one-bad"),
        pytest.param([], "at least one scope", id="empty-list"),
        pytest.param([" "], "at least one scope", id="blank"),
    ],
)
def test_parse_scopes_refuses_what_it_does_not_know(requested, message):
    with pytest.raises(TokenPolicyError, match=message):
        parse_scopes(requested)


@pytest.mark.parametrize(
    ("requested", "ceiling", "allowed"),
    [
        pytest.param(None, None, True, id="full-under-full"),
        pytest.param({"tokens"}, None, True, id="narrow-under-full"),
        pytest.param(None, {"tokens"}, False, id="full-under-narrow"),
        pytest.param({"tokens"}, {"tokens", "scim:read"}, True, id="subset"),
        pytest.param({"tokens", "introspect"}, {"tokens"}, False, id="wider"),
    ],
)
def test_within(requested, ceiling, allowed):
    def frozen(names):
        return None if names is None else frozenset(names)

    assert within(frozen(requested), frozen(ceiling)) is allowed


def test_a_token_issued_with_scopes_verifies_with_them(keys, user, clock):
    issued = issue(
        keys, POLICY, user_id=user.id, now=clock(), scopes=["introspect", "scim:read"]
    )

    principal = verify(keys, issued.token, now=clock())

    assert principal.scopes == frozenset({"introspect", "scim:read"})
    assert AccessToken.get_by_id(issued.id).scopes == "introspect scim:read"


def test_a_token_issued_without_scopes_has_its_owners_full_rights(
    keys, user, issued, clock
):
    principal = verify(keys, issued.token, now=clock())

    assert principal.scopes is None
    assert AccessToken.get_by_id(issued.id).scopes is None


def test_issue_with_an_unknown_scope_stores_nothing(keys, user, clock):
    with pytest.raises(TokenPolicyError):
        issue(keys, POLICY, user_id=user.id, now=clock(), scopes=["everything"])

    assert AccessToken.select().count() == 0
