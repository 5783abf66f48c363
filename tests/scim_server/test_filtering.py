"""Refused filters: each detail says what is wrong and where (RFC 7644 §3.4.2.2).

tests/test_filter_api.py checks that refusals reach the client as 400
invalidFilter; these tests pin the details themselves, which is what a
person fixing a filter reads.
"""

from __future__ import annotations

import pytest

from scim_server.errors import InvalidFilter
from scim_server.filtering import MAX_DEPTH, MAX_LENGTH, parse_filter
from scim_server.schema import ENTERPRISE_USER_SCHEMA as ENTERPRISE
from scim_server.schema import user_type
from scim_server.schema.search import search_value
from storage.filters import Compare


def refusal(text: str) -> str:
    with pytest.raises(InvalidFilter) as excinfo:
        parse_filter(text, user_type())
    assert excinfo.value.scim_type == "invalidFilter"
    return excinfo.value.detail


# Positions count characters from 1.
@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ('userName eq "x")', "syntax error: unexpected ')' at position 16"),
        ('userName "x"', "syntax error: unexpected 'x' at position 10"),
        ("userName eq bjensen", "syntax error: unexpected 'bjensen' at position 13"),
        ("userName pr pr", "syntax error: unexpected 'pr' at position 13"),
        ("title pr or or nickName pr", "syntax error: unexpected 'or' at position 13"),
        # "not" takes a parenthesised filter (RFC 7644 §3.4.2.2, "valFilter").
        ('not title eq "x"', "syntax error: unexpected 'title' at position 5"),
        ('emails[type eq "work"]]', "syntax error: unexpected ']' at position 23"),
        ('name.givenName.x eq "y"', "syntax error: unexpected 'x' at position 15"),
        ("emails[]", "syntax error: unexpected ']' at position 8"),
        ("userName eq", "syntax error: the filter ends too early"),
        ('(title eq "x"', "syntax error: the filter ends too early"),
        ("title pr and", "syntax error: the filter ends too early"),
        ('emails[type eq "work"', "syntax error: the filter ends too early"),
    ],
)
def test_syntax_errors_name_the_token_and_its_position(text, detail):
    assert refusal(text) == detail


@pytest.mark.parametrize(
    ("text", "position"),
    [('userName eq "bjensen', 13), ('userName ~ "x"', 10)],
)
def test_a_character_that_starts_no_token_is_named_with_its_position(text, position):
    assert f"at position {position}" in refusal(text)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ('nickname eq "x" and nosuch eq "x"', "unknown attribute 'nosuch' on User"),
        ('name.nosuch eq "x"', "unknown sub-attribute 'nosuch' of name"),
        ('emails[nosuch eq "x"]', "unknown sub-attribute 'nosuch' of emails"),
        (
            'urn:example:nope:1.0:User:x eq "1"',
            "unknown schema urn:example:nope:1.0:User",
        ),
        (f'{ENTERPRISE}:nosuch eq "x"', "unknown attribute 'nosuch' on User"),
        ('password eq "x"', "password cannot be filtered on"),
        (
            'emails[emails.value eq "x"]',
            "inside emails[...] only its sub-attributes can be named",
        ),
        (
            'name[givenName eq "x"]',
            "name is not a multi-valued complex attribute, so it cannot take a "
            "value filter",
        ),
        (
            'emails[type eq "work" and phoneNumbers[type eq "work"]]',
            "value filters cannot be nested",
        ),
    ],
)
def test_unknown_or_unusable_attributes_are_named(text, detail):
    assert refusal(text) == detail


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ('name eq "x"', "name is complex: compare one of its sub-attributes"),
        ("active gt true", "'gt' cannot be applied to active (boolean)"),
        ('meta.created co "2026"', "'co' cannot be applied to meta.created (dateTime)"),
        ("title gt null", "'gt null' is meaningless; use eq or ne"),
        ("userName eq true", "userName is a string; compare it with a string"),
        ("title sw 5", "title is a string; compare it with a string"),
        ('active eq "true"', "active is a boolean; compare it with true or false"),
        (
            "meta.created gt 5",
            "meta.created is a dateTime; compare it with a quoted timestamp",
        ),
        (
            'meta.created gt "yesterday"',
            "'yesterday' is not a timestamp such as 2026-01-15T09:30:00Z",
        ),
    ],
)
def test_operators_and_values_that_do_not_fit_the_attribute_say_why(text, detail):
    assert refusal(text) == detail


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("", "the filter is empty"),
        (" \t ", "the filter is empty"),
        (
            "(" * (MAX_DEPTH + 1) + "title pr" + ")" * (MAX_DEPTH + 1),
            f"the filter nests deeper than {MAX_DEPTH} levels",
        ),
        (
            'title eq "' + "x" * MAX_LENGTH + '"',
            f"the filter is longer than {MAX_LENGTH} characters",
        ),
    ],
)
def test_empty_deep_and_long_filters_are_refused_before_parsing(text, detail):
    assert refusal(text) == detail


def test_nesting_up_to_the_limit_is_accepted():
    text = "(" * MAX_DEPTH + "title pr" + ")" * MAX_DEPTH

    assert parse_filter(text, user_type()) == parse_filter("title pr", user_type())


@pytest.mark.parametrize(
    "text",
    [
        'emails[type eq "work"][value eq "x"]',
        'emails[type eq "work"].value[display eq "y"]',
        'emails[type eq "work"] eq "x"',
        'emails[type eq "work"] pr',
    ],
)
def test_misplaced_value_filters_are_refused(text):
    assert refusal(text)


# A filter on an attribute without a column of its own compares its value
# with the resource's search document, so both must be put in the same form.
@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("userName", "BJensen@Example.COM"),
        ("externalId", "Ext-ABC"),
        ("name.givenName", "Barbara"),
        ("emails.value", "BJensen@Example.com"),
        ("profileUrl", "https://Example.com/BJensen"),
        ("x509Certificates.value", "QUJD"),
    ],
)
def test_a_filter_compares_the_search_form_of_its_value(path, value):
    name, _, sub_name = path.partition(".")
    attribute = user_type().core_attribute(name)
    assert attribute is not None
    if sub_name:
        attribute = attribute.sub_attribute(sub_name)
        assert attribute is not None

    parsed = parse_filter(f'{path} eq "{value}"', user_type())

    assert isinstance(parsed, Compare)
    assert parsed.value == search_value(attribute, value)
