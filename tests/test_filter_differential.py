"""Random users and random filters: the database and the reference agree.

Hypothesis writes users drawn from a small pool of awkward values (case
variants, ß and its folding, LIKE wildcards, empty strings, missing
attributes), groups nested in one another holding some of them, sometimes
with the built-in ``users``, and filters over every kind of attribute the
compiler handles: columns, child tables, groups direct and inherited, the
JSON document, value filters, extension attributes, nested logic. Each
filter must select exactly the users that ``tests.filter_reference``
selects, on SQLite and on PostgreSQL, with each user's groups worked out by
the reference from the groups' members rather than read from the API.
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
from scim_server.schema import GROUP_SCHEMA, USER_SCHEMA, group_type, user_type
from scim_server.schema.search import search_document
from storage import groups as group_store
from storage import users as user_store
from storage.filters import Selection
from storage.models import Group, Membership, ResourceId, User
from storage.records import GroupFields
from tests.filter_reference import groups_of, matches

WORDS = ["ab", "AB", "aB", "straße", "STRASSE", "Ünï", "üNÏ", "x%y", "a_b", "", "zz"]
TYPES = ["work", "home", "Work", "other"]
GROUP_WORDS = [word for word in WORDS if word]
MAX_GROUPS = 4
MAX_USERS = 6

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
# Group ids are known only once the groups exist: "{g1}" stands for the
# second group's id, "{users}" for the built-in group's, and either stands
# for an id no group has when that group was not made.
group_ids = st.sampled_from(
    [*(f"{{g{number}}}" for number in range(MAX_GROUPS)), "{users}", "12"]
)
group_filters = st.one_of(
    st.builds(
        lambda op, value: f'groups.value {op} "{value}"',
        st.sampled_from(["eq", "ne"]),
        group_ids,
    ),
    st.builds(
        lambda op, word: f"groups.display {op} {_quoted(word)}",
        st.sampled_from(["eq", "ne", "co", "sw", "ew", "gt", "le"]),
        st.sampled_from([*GROUP_WORDS, "users", "1"]),
    ),
    st.builds(
        lambda value, word: f'groups[value eq "{value}" or display sw {_quoted(word)}]',
        group_ids,
        st.sampled_from(GROUP_WORDS),
    ),
    st.just("groups pr"),
)
# Each group may hold users and groups made before it, so the nesting has no
# cycle, and may hold the built-in "users".
group_layouts = st.lists(
    st.fixed_dictionaries(
        {
            "word": st.sampled_from(GROUP_WORDS),
            "users": st.sets(st.integers(0, MAX_USERS - 1), max_size=3),
            "groups": st.sets(st.integers(0, MAX_GROUPS - 1), max_size=2),
            "holds_everyone": st.booleans(),
        }
    ),
    max_size=MAX_GROUPS,
)
leaves = (
    string_comparisons | presence | booleans | nulls | value_filters | group_filters
)
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


def _create(provisioning: Provisioning, number: int, document: dict[str, Any]) -> Any:
    schemas = [USER_SCHEMA] + ([ENTERPRISE] if ENTERPRISE in document else [])
    body = {"schemas": schemas, "userName": f"{WORDS[number % len(WORDS)]}{number}"}
    return provisioning.create_user({**body, **document})


@settings(
    max_examples=int(os.environ.get("FILTER_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    documents=st.lists(user_documents, min_size=1, max_size=MAX_USERS),
    layouts=group_layouts,
    with_everyone=st.booleans(),
    text=filters,
)
def test_database_and_reference_select_the_same_users(
    db, settings, documents, layouts, with_everyone, text
):
    provisioning = Provisioning(settings=settings, passwords=PasswordHasher(log2_n=4))
    try:
        user_ids = [
            str(_create(provisioning, number, document).id)
            for number, document in enumerate(documents)
        ]
        groups, everyone = _create_groups(
            provisioning, user_ids, layouts, with_everyone
        )
        node = parse_filter(_with_ids(text, groups, everyone), user_type())
        records = user_store.list_users(0, 100)
        rendered = render_users(records, "", Projection(user_type()))
        for resource in rendered:
            reference = groups_of(resource["id"], groups, everyone)
            assert _unordered(resource.get("groups", [])) == _unordered(reference)
            resource["groups"] = reference

        selected = user_store.list_users(0, 100, Selection(filter=node))

        expected = {r["id"] for r in rendered if matches(node, r)}
        assert {str(r.id) for r in selected} == expected, text
        assert user_store.count_users(Selection(filter=node)) == len(expected)
    finally:
        # Each example starts from empty tables; the fixture only empties
        # the database between tests, not between examples.
        for model in (Membership, Group, User, ResourceId):
            model.delete().execute()


def _create_groups(
    provisioning: Provisioning,
    user_ids: list[str],
    layouts: list[dict[str, Any]],
    with_everyone: bool,
) -> tuple[list[dict[str, Any]], str | None]:
    """The groups the layouts describe, with their direct members' ids."""
    groups: list[dict[str, Any]] = []
    everyone = None
    if with_everyone:
        everyone = str(_create_everyone(provisioning).id)
        groups.append({"id": everyone, "displayName": "users", "members": []})
    made: list[str] = []
    for number, layout in enumerate(layouts):
        members = [user_ids[i] for i in sorted(layout["users"]) if i < len(user_ids)]
        members += [made[i] for i in sorted(layout["groups"]) if i < number]
        if everyone is not None and layout["holds_everyone"]:
            members.append(everyone)
        name = f"{layout['word']}{number}"
        body = {
            "schemas": [GROUP_SCHEMA],
            "displayName": name,
            "members": [{"value": member} for member in members],
        }
        made.append(str(provisioning.create_group(body).id))
        groups.append({"id": made[-1], "displayName": name, "members": members})
    return groups, everyone


def _create_everyone(provisioning: Provisioning) -> Any:
    document = {"schemas": [GROUP_SCHEMA], "displayName": "users"}
    fields = GroupFields(
        display_name="users",
        document=document,
        search=search_document(group_type(), document),
    )
    return group_store.create_group(
        fields, [], now=provisioning.settings.clock(), builtin="users"
    )


def _with_ids(text: str, groups: list[dict[str, Any]], everyone: str | None) -> str:
    made = [group["id"] for group in groups if group["id"] != everyone]
    for number in range(MAX_GROUPS):
        text = text.replace(
            f"{{g{number}}}", made[number] if number < len(made) else "7"
        )
    return text.replace("{users}", everyone or "7")


def _unordered(groups: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((g["value"], g["display"], g["type"]) for g in groups)
