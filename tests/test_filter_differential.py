"""Random users and random filters: the database and the reference agree.

Hypothesis writes users drawn from a small pool of awkward values (case
variants, ß and its folding, LIKE wildcards, empty strings, missing
attributes) and filters over every kind of attribute the compiler handles:
columns, child tables, the JSON document, value filters, extension
attributes, nested logic. Each filter must select exactly the users that
``tests.filter_reference`` selects, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scim_server.filtering import parse_filter
from scim_server.passwords import PasswordHasher
from scim_server.projection import Projection
from scim_server.provisioning import Provisioning
from scim_server.representation import users as render_users
from scim_server.schema import ENTERPRISE_USER_SCHEMA as ENTERPRISE
from scim_server.schema import USER_SCHEMA, user_type
from storage import users as user_store
from storage.filters import Selection
from storage.models import ResourceId, User
from tests.filter_reference import matches

WORDS = ["ab", "AB", "aB", "straße", "STRASSE", "Ünï", "üNÏ", "x%y", "a_b", "", "zz"]
TYPES = ["work", "home", "Work", "other"]

emails = st.lists(
    st.fixed_dictionaries(
        {"value": st.sampled_from(WORDS), "type": st.sampled_from(TYPES)},
        optional={"primary": st.booleans()},
    ),
    max_size=3,
)
user_documents = st.fixed_dictionaries(
    {"active": st.booleans()},
    optional={
        "title": st.sampled_from(WORDS),
        "nickName": st.sampled_from(WORDS),
        "externalId": st.sampled_from(WORDS),
        "name": st.fixed_dictionaries(
            {}, optional={"familyName": st.sampled_from(WORDS)}
        ),
        "emails": emails,
        "phoneNumbers": emails,
        ENTERPRISE: st.fixed_dictionaries(
            {}, optional={"employeeNumber": st.sampled_from(WORDS)}
        ),
    },
)

STRING_PATHS = [
    "userName",
    "title",
    "nickName",
    "externalId",
    "name.familyName",
    "emails.value",
    "emails.type",
    "phoneNumbers.value",
    f"{ENTERPRISE}:employeeNumber",
]


def _quoted(word: str) -> str:
    return json.dumps(word, ensure_ascii=False)


string_comparisons = st.builds(
    lambda path, op, word: f"{path} {op} {_quoted(word)}",
    st.sampled_from(STRING_PATHS),
    st.sampled_from(["eq", "ne", "co", "sw", "ew", "gt", "le"]),
    st.sampled_from(WORDS),
)
presence = st.builds(
    lambda path: f"{path} pr",
    st.sampled_from([*STRING_PATHS, "emails", "phoneNumbers", "name"]),
)
booleans = st.builds(
    lambda path, op, value: f"{path} {op} {value}",
    st.sampled_from(["active", "emails.primary"]),
    st.sampled_from(["eq", "ne"]),
    st.sampled_from(["true", "false"]),
)
nulls = st.builds(
    lambda path, op: f"{path} {op} null",
    st.sampled_from(["title", "nickName", "emails.value"]),
    st.sampled_from(["eq", "ne"]),
)
inside_brackets = st.builds(
    lambda sub, op, word: f"{sub} {op} {_quoted(word)}",
    st.sampled_from(["value", "type"]),
    st.sampled_from(["eq", "co", "sw", "ne"]),
    st.sampled_from(WORDS + TYPES),
)
value_filters = st.builds(
    lambda attribute, left, joiner, right: f"{attribute}[{left} {joiner} {right}]",
    st.sampled_from(["emails", "phoneNumbers"]),
    inside_brackets,
    st.sampled_from(["and", "or"]),
    inside_brackets | st.just("primary eq true"),
)
leaves = string_comparisons | presence | booleans | nulls | value_filters
filters = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"{a} and {b}", inner, inner),
        st.builds(lambda a, b: f"{a} or {b}", inner, inner),
        st.builds(lambda a: f"not ({a})", inner),
        st.builds(lambda a: f"({a})", inner),
    ),
    max_leaves=5,
)


def _create(provisioning: Provisioning, number: int, document: dict[str, Any]) -> None:
    schemas = [USER_SCHEMA] + ([ENTERPRISE] if ENTERPRISE in document else [])
    body = {"schemas": schemas, "userName": f"{WORDS[number % len(WORDS)]}{number}"}
    provisioning.create_user({**body, **document})


@settings(
    max_examples=int(os.environ.get("FILTER_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(documents=st.lists(user_documents, min_size=1, max_size=6), text=filters)
def test_database_and_reference_select_the_same_users(db, settings, documents, text):
    provisioning = Provisioning(settings=settings, passwords=PasswordHasher(log2_n=4))
    node = parse_filter(text, user_type())
    try:
        for number, document in enumerate(documents):
            _create(provisioning, number, document)
        records = user_store.list_users(0, 100)
        rendered = render_users(records, "", Projection(user_type()))

        selected = user_store.list_users(0, 100, Selection(filter=node))

        expected = {r["id"] for r in rendered if matches(node, r)}
        assert {str(r.id) for r in selected} == expected, text
        assert user_store.count_users(Selection(filter=node)) == len(expected)
    finally:
        # Each example starts from an empty table; the fixture only empties
        # the database between tests, not between examples.
        User.delete().execute()
        ResourceId.delete().execute()
