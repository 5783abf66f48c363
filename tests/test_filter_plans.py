"""The lookups identity providers make are answered from indexes.

Okta and Entra ID look users up by userName or externalId before every
create, and groups by displayName or member; at a hundred thousand users a
full scan per lookup is what makes provisioning time out. The query plans are
read from each database: SQLite's EXPLAIN QUERY PLAN, and PostgreSQL's
EXPLAIN with sequential scans discouraged, since on a near-empty table its
planner rightly prefers them.
"""

from __future__ import annotations

import re

import pytest

from scim_server.filtering import parse_filter
from scim_server.schema import group_type, user_type
from storage import groups as group_store
from storage.compiler import compile_filter
from storage.database import is_postgresql
from storage.models import Group, User

FULL_SCAN = re.compile(r"\bscan t\d+$", re.MULTILINE)

LOOKUPS = [
    ("User", 'userName eq "bjensen@example.com"', "user_name_key"),
    ("User", 'userName sw "bjen"', "user_name_key"),
    ("User", 'externalId eq "00u1"', "external_id"),
    ("User", 'emails.value eq "b@example.com"', "user_email"),
    # A group that exists: a condition on one that does not needs no read.
    ("User", 'groups.value eq "{admins}"', "membership"),
    ("User", "active eq false", "active"),
    ("User", 'meta.lastModified gt "2026-01-01T00:00:00Z"', "last_modified"),
    ("Group", 'displayName eq "Growth team"', "display_name_key"),
    ("Group", 'members.value eq "1234"', "membership"),
    ("Group", 'externalId eq "abc"', "external_id"),
]


def plan(db, query) -> str:
    sql, params = query.sql()
    if is_postgresql(db):
        db.execute_sql("SET LOCAL enable_seqscan = off")
        rows = db.execute_sql(f"EXPLAIN {sql}", params).fetchall()
    else:
        rows = db.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return "\n".join(" ".join(str(part) for part in row) for row in rows)


@pytest.mark.parametrize(("resource_type", "expression", "index_hint"), LOOKUPS)
def test_lookup_uses_an_index(db, admin_token, resource_type, expression, index_hint):
    kind = user_type() if resource_type == "User" else group_type()
    model = User if resource_type == "User" else Group
    admins = group_store.get_builtin_group("admins").id
    expression = expression.replace("{admins}", str(admins))
    condition = compile_filter(resource_type, parse_filter(expression, kind))

    with db.atomic():
        text = plan(db, model.select(model.id).where(condition))

    lowered = text.lower()
    assert "index" in lowered, text
    assert index_hint in lowered, text
    if not is_postgresql(db):
        # SQLite reports a full table scan as a bare "SCAN t1".
        assert not FULL_SCAN.search(lowered), text


def test_a_full_scan_is_detected(db, admin_token):
    # Guards the test above: a filter with no index must not look indexed.
    condition = compile_filter("User", parse_filter('title eq "x"', user_type()))

    with db.atomic():
        text = plan(db, User.select(User.id).where(condition)).lower()

    if is_postgresql(db):
        assert "seq scan" in text, text
    else:
        assert FULL_SCAN.search(text), text
