"""Filtering a list: RFC 7644 §3.4.2.2.

Four users with known attributes are created once for the module. Every
filter is narrowed to them with ``and userName sw "<prefix>"``, with the
tested expression in parentheses, so other resources on the server never
count and the expression keeps its own precedence.
"""

from __future__ import annotations

import datetime

import pytest

from conformance_tests.scim_http import (
    ENTERPRISE_USER_SCHEMA,
    USER_SCHEMA,
    assert_list_response,
    assert_scim_error,
    parse_date_time,
)

pytestmark = pytest.mark.requires_feature("filter")

# alice and bob both have an address at corp.example, but only alice's is
# her work address: that tells a bracket filter, which needs one email to
# match both conditions, from two separate conditions on "emails".
PEOPLE = {
    "alice": {
        "displayName": "Alice Liddell",
        "nickName": "Al",
        "title": "Engineer",
        "active": True,
        "externalId": "Ext-Alice",
        "name": {"givenName": "Alice", "familyName": "Liddell"},
        "emails": [
            {"value": "alice@corp.example", "type": "work"},
            {"value": "alice@home.example", "type": "home"},
        ],
    },
    "bob": {
        "displayName": "Bob Builder",
        "title": "Manager",
        "active": False,
        "externalId": "ext-bob",
        "name": {"givenName": "Bob", "familyName": "Builder"},
        "emails": [
            {"value": "bob@other.example", "type": "work"},
            {"value": "bob@corp.example", "type": "home"},
        ],
    },
    "carol": {
        "displayName": "Carol Danvers",
        "title": "Engineer",
        "active": True,
        "name": {"givenName": "Carol", "familyName": "Danvers"},
        "emails": [{"value": "carol@other.example", "type": "work"}],
    },
    "dave": {
        "displayName": 'Dave "The Boss" Jones',
        "nickName": "D",
        "title": "Director",
        "active": True,
        "name": {"givenName": "Dave", "familyName": "Jones"},
    },
}
# carol's manager is alice, by id, once alice exists.
ENTERPRISE = {
    "alice": {"employeeNumber": "1001", "department": "Research"},
    "carol": {"employeeNumber": "1003", "department": "Sales"},
}


@pytest.fixture(scope="module")
def people(module_provisioner, has_enterprise_user):
    created = {}
    for label, attributes in PEOPLE.items():
        extra = {}
        if has_enterprise_user and label in ENTERPRISE:
            extension = dict(ENTERPRISE[label])
            if label == "carol":
                extension["manager"] = {"value": created["alice"]["id"]}
            extra[ENTERPRISE_USER_SCHEMA] = extension
        created[label] = module_provisioner.user(label, **attributes, **extra)
    return created


@pytest.fixture
def matching(client, module_provisioner, people):
    """The labels of the module's users that a filter selects.

    In an expression, ``{p}`` stands for the module's name prefix, ``{P}``
    for it in capitals, and ``{alice}`` and so on for those users' ids.
    """
    ids = {label: user["id"] for label, user in people.items()}
    prefix = module_provisioner.prefix

    def select(expression):
        filled = expression.format(p=prefix, P=prefix.upper(), **ids)
        response = client.get(
            "/Users", {"filter": module_provisioner.users_filter(filled)}
        )
        page = assert_list_response(response)
        assert page["totalResults"] == len(page.get("Resources", [])), str(response)
        return {
            module_provisioner.label(user["userName"])
            for user in page.get("Resources", [])
        }

    return select


# (expression, labels it selects); {p} is the module's name prefix.
OPERATORS = [
    ('userName eq "{p}alice"', {"alice"}),
    ('title ne "Engineer"', {"bob", "dave"}),
    ('title co "ngine"', {"alice", "carol"}),
    ('title sw "Dir"', {"dave"}),
    ('title ew "ger"', {"bob"}),
    ("nickName pr", {"alice", "dave"}),
    ('userName gt "{p}bob"', {"carol", "dave"}),
    ('userName ge "{p}bob"', {"bob", "carol", "dave"}),
    ('userName lt "{p}bob"', {"alice"}),
    ('userName le "{p}bob"', {"alice", "bob"}),
    ("active eq false", {"bob"}),
    ('name.familyName eq "Liddell"', {"alice"}),
    ('displayName eq "Dave \\"The Boss\\" Jones"', {"dave"}),
]


@pytest.mark.parametrize(("expression", "expected"), OPERATORS)
def test_each_attribute_operator(matching, expression, expected):
    """RFC 7644 §3.4.2.2: the attribute operators eq, ne, co, sw, ew, pr,
    gt, ge, lt and le, on simple and complex attributes, with JSON string
    values (escapes included)."""
    assert matching(expression) == expected


LOGIC = [
    ('title eq "Engineer" and nickName pr', {"alice"}),
    ('title eq "Manager" or title eq "Director"', {"bob", "dave"}),
    ('not (title eq "Engineer")', {"bob", "dave"}),
    ('not (title eq "Engineer") and active eq true', {"dave"}),
    ('((title eq "Manager"))', {"bob"}),
]


@pytest.mark.parametrize(("expression", "expected"), LOGIC)
def test_logical_operators_and_grouping(matching, expression, expected):
    """RFC 7644 §3.4.2.2: the logical operators and, or and not, and
    grouping with parentheses."""
    assert matching(expression) == expected


# dave is active and bob is not: "(A or B) and C" differs from "A or (B and C)".
PRECEDENCE = [
    ('id eq "{dave}" or title eq "Manager" and active eq false', {"bob", "dave"}),
    ('(id eq "{dave}" or title eq "Manager") and active eq false', {"bob"}),
    ('title eq "Manager" and active eq false or id eq "{dave}"', {"bob", "dave"}),
]


@pytest.mark.parametrize(("expression", "expected"), PRECEDENCE)
def test_and_binds_tighter_than_or(matching, expression, expected):
    """RFC 7644 §3.4.2.2: filters MUST be evaluated with grouping first,
    then not, then and, then or."""
    assert matching(expression) == expected


CASES = [
    ('USERNAME EQ "{p}alice"', {"alice"}),
    ('userName Eq "{P}ALICE"', {"alice"}),
    ('title co "ENGINE"', {"alice", "carol"}),
    ('externalId eq "Ext-Alice"', {"alice"}),
    ('externalId eq "ext-alice"', set()),
    ('externalId eq "EXT-BOB"', set()),
]


@pytest.mark.parametrize(("expression", "expected"), CASES)
def test_case_sensitivity(matching, expression, expected):
    """RFC 7644 §3.4.2.2: attribute names and operators are case-insensitive,
    and values compare by the attribute's caseExact: false for userName and
    title (RFC 7643 §4.1.1), true for externalId (RFC 7643 §3.1)."""
    assert matching(expression) == expected


MULTI_VALUED = [
    ('emails.value ew "@corp.example"', {"alice", "bob"}),
    ('emails.type eq "work" and emails.value ew "@corp.example"', {"alice", "bob"}),
    ('emails[type eq "work" and value ew "@corp.example"]', {"alice"}),
    ('emails[type eq "home" or value sw "carol"]', {"alice", "bob", "carol"}),
    ('emails[type eq "work"]', {"alice", "bob", "carol"}),
    ("emails pr", {"alice", "bob", "carol"}),
    ("not (emails pr)", {"dave"}),
]


@pytest.mark.parametrize(("expression", "expected"), MULTI_VALUED)
def test_multi_valued_attributes_and_value_paths(matching, expression, expected):
    """RFC 7644 §3.4.2.2: a filter on a multi-valued attribute matches when
    any value matches; a value path, attr[filter], needs one value to match
    the whole bracketed filter."""
    assert matching(expression) == expected


def test_id_filter(matching):
    """RFC 7644 §3.4.2.2: any attribute may be filtered on, id included."""
    assert matching('id eq "{carol}"') == {"carol"}


def test_core_attribute_named_by_its_urn(matching):
    """RFC 7644 §3.10: an attribute may be named fully qualified, by its
    schema URN, in filters too."""
    assert matching(f'{USER_SCHEMA}:userName eq "{{p}}carol"') == {"carol"}


ENTERPRISE_FILTERS = [
    (f'{ENTERPRISE_USER_SCHEMA}:employeeNumber eq "1003"', {"carol"}),
    (f'{ENTERPRISE_USER_SCHEMA}:department sw "Res"', {"alice"}),
    (f'{ENTERPRISE_USER_SCHEMA}:manager.value eq "{{alice}}"', {"carol"}),
    (f"{ENTERPRISE_USER_SCHEMA}:employeeNumber pr", {"alice", "carol"}),
    (f'schemas eq "{ENTERPRISE_USER_SCHEMA}"', {"alice", "carol"}),
]


@pytest.mark.usefixtures("enterprise_user")
@pytest.mark.parametrize(("expression", "expected"), ENTERPRISE_FILTERS)
def test_extension_attributes(matching, expression, expected):
    """RFC 7644 §3.4.2.2: extension attributes are filtered by their URN
    qualified name, and resources by the schemas they carry."""
    assert matching(expression) == expected


def test_date_times_compare_chronologically(matching, people):
    """RFC 7644 §3.4.2.2: gt, ge, lt and le compare dateTime values in time
    order, whatever offset the instant is written with (RFC 7643 §2.3.5)."""
    stamps = [_last_modified(user) for user in people.values()]
    second = datetime.timedelta(seconds=1)
    before = (min(stamps) - second).astimezone(_offset(hours=5))
    after = (max(stamps) + second).astimezone(_offset(hours=-3))

    assert matching(f'meta.lastModified gt "{_written(before)}"') == set(people)
    assert matching(f'meta.lastModified le "{_written(before)}"') == set()
    assert matching(f'meta.lastModified lt "{_written(after)}"') == set(people)
    assert matching(f'meta.lastModified ge "{_written(after)}"') == set()


def test_a_resource_matches_its_own_last_modified(matching, people):
    """RFC 7644 §3.4.2.2: eq matches a dateTime equal to the value; the value
    the server itself returned in meta.lastModified (RFC 7643 §3.1) must
    compare equal to the resource's, and not greater."""
    stamp = people["bob"]["meta"]["lastModified"]

    assert "bob" in matching(f'meta.lastModified eq "{stamp}"')
    assert "bob" not in matching(f'meta.lastModified gt "{stamp}"')


def _last_modified(resource):
    return parse_date_time(resource["meta"]["lastModified"])


def _offset(hours):
    return datetime.timezone(datetime.timedelta(hours=hours))


def _written(moment):
    return moment.isoformat(timespec="milliseconds")


INVALID = [
    "userName eq",
    'userName zz "x"',
    '(userName eq "x"',
    'userName eq "unterminated',
    "userName eq unquoted",
    'and userName eq "x"',
    'emails[type eq "work"',
    'noSuchAttribute eq "x"',
    "active gt true",
]


@pytest.mark.parametrize("expression", INVALID)
def test_invalid_filter_is_400_invalid_filter(client, expression):
    """RFC 7644 §3.12: a filter that breaks the grammar of §3.4.2.2, or names
    an attribute and comparison the server does not support, is 400 with
    scimType invalidFilter; §3.4.2.2: gt on a boolean SHALL fail so."""
    response = client.get("/Users", {"filter": expression})

    assert_scim_error(response, 400, "invalidFilter")
