"""Parsing SCIM filters (RFC 7644 §3.4.2.2) and resolving them against schemas.

scim2-filter-parser does the lexing and parsing, corrected in four ways:
- ``and`` binds tighter than ``or``, as the RFC requires (the library gives
  them equal precedence, so ``a or b and c`` meant ``(a or b) and c``);
- numbers are whole JSON numbers (the library reads one digit), decimals
  and negatives included;
- strings are JSON strings, ``\\"`` and other escapes included;
- ``true``, ``false`` and ``null`` are keywords only as whole words, so an
  attribute such as ``nullable`` or ``trueName`` is still a name.

The resolved tree (``storage.filters``) carries canonical attribute names,
each value's type and case sensitivity, and values converted to their types,
so storage never needs the schemas. Anything that cannot be evaluated
exactly is refused with ``invalidFilter`` and a detail saying what and where.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import sly
from scim2_filter_parser import ast
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser, SCIMParserError

from scim_server.errors import InvalidFilter, InvalidValue
from scim_server.schema import Attribute, ResourceType
from storage import filters

MAX_LENGTH = 4096
MAX_DEPTH = 32

_KEYWORDS = {
    word: word.upper()
    for word in (
        *("eq", "ne", "co", "sw", "ew", "pr", "gt", "ge", "lt", "le"),
        *("and", "or", "not", "true", "false", "null"),
    )
}
_LITERALS = {"TRUE": True, "FALSE": False, "NULL": None}
_TOKENS = SCIMLexer.tokens
_RULES = SCIMParser

# sly builds lexers and parsers from class bodies in which unknown names are
# tokens, so the library's pieces are reached through module-level aliases.


class FilterLexer(SCIMLexer):  # type: ignore[misc]
    tokens = _TOKENS

    # Keywords are recognised in ATTRNAME below, whole words only.
    FALSE = r"(?!)"
    TRUE = r"(?!)"
    NULL = r"(?!)"

    @_(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")  # type: ignore[name-defined,untyped-decorator]  # noqa: F821
    def NUMBER(self, t: Any) -> Any:
        t.value = json.loads(t.value)
        return t

    @_(r'"(?:[^"\\]|\\.)*"')  # type: ignore[name-defined,untyped-decorator]  # noqa: F821
    def COMP_VALUE(self, t: Any) -> Any:
        t.value = json.loads(t.value)
        return t

    @_(r"[a-zA-Z$][a-zA-Z0-9_$-]*")  # type: ignore[name-defined,untyped-decorator]  # noqa: F821
    def ATTRNAME(self, t: Any) -> Any:
        keyword = _KEYWORDS.get(t.value.lower())
        if keyword is not None:
            t.type = keyword
            t.value = _LITERALS.get(keyword, t.value)
        return t

    def error(self, t: Any) -> None:
        character = t.value[0]
        if character == '"':
            raise ValueError(f"unterminated string at position {t.index + 1}")
        raise ValueError(f"unexpected {character!r} at position {t.index + 1}")


class FilterParser(sly.Parser):  # type: ignore[misc]
    tokens = _TOKENS
    # RFC 7644 §3.4.2.2: "not" before "and" before "or".
    precedence = (("left", "OR"), ("left", "AND"), ("right", "NOT"))

    filter = _RULES.filter
    value_path = _RULES.value_path
    attr_exp = _RULES.attr_exp
    log_exp = _RULES.log_exp
    comp_value = _RULES.comp_value
    attr_path = _RULES.attr_path
    sub_attr = _RULES.sub_attr
    error = _RULES.error


def parse_filter(
    text: str, resource_type: ResourceType, unknown: set[str] | None = None
) -> filters.Filter:
    """Parse and resolve ``text``; raise InvalidFilter for anything wrong.

    With ``unknown``, an attribute this resource type does not have is not an
    error: it has no value on any resource of the type, so comparisons on it
    are false, and its name is added to ``unknown``. A search across resource
    types needs this: ``userName eq "x"`` is false for every group, and
    ``not (userName eq "x")`` is true for every group.
    """
    if len(text) > MAX_LENGTH:
        raise InvalidFilter(f"the filter is longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise InvalidFilter("the filter is empty")
    _check_depth(text)
    try:
        tokens = list(FilterLexer().tokenize(text))
        tree = FilterParser().parse(iter(tokens))
    except SCIMParserError as ex:
        raise InvalidFilter(f"syntax error: {_describe(ex)}") from None
    except ValueError as ex:
        raise InvalidFilter(f"syntax error: {ex}") from None
    if tree is None:
        raise InvalidFilter("syntax error: the filter ends too early")
    return _Resolver(resource_type, unknown).filter(tree, scope=None)


def _check_depth(text: str) -> None:
    """Refuse deep nesting before the parser recurses into it."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped = not escaped and char == "\\"
            in_string = escaped or char != '"'
            continue
        if char == '"':
            in_string = True
        elif char in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise InvalidFilter(f"the filter nests deeper than {MAX_DEPTH} levels")


def _describe(ex: SCIMParserError) -> str:
    message = str(ex)
    if "Token(" in message and "index=" in message:
        # "Parsing error at: Token(type='RPAREN', value=')', lineno=1, index=9...)"
        value = message.split("value=", 1)[1].split(", lineno", 1)[0]
        index = message.split("index=", 1)[1].split(",", 1)[0].rstrip(")")
        return f"unexpected {value} at position {int(index) + 1}"
    if message.endswith("None"):
        return "the filter ends too early"
    return message


# What each type allows, beyond "pr" (RFC 7644 §3.4.2.2, Table 3).
_OPERATORS = {
    "string": filters.COMPARISONS,
    "reference": filters.COMPARISONS,
    "dateTime": frozenset({"eq", "ne", "gt", "ge", "lt", "le"}),
    "integer": frozenset({"eq", "ne", "gt", "ge", "lt", "le"}),
    "decimal": frozenset({"eq", "ne", "gt", "ge", "lt", "le"}),
    "boolean": frozenset({"eq", "ne"}),
    "binary": frozenset({"eq", "ne"}),
    "complex": frozenset(),
}

SCHEMAS_PATH = filters.AttributePath(
    "schemas", type="reference", case_exact=True, multi_valued=True
)


# Inside brackets, the multi-valued attribute whose sub-attributes are named.
_Scope = tuple[Attribute, filters.AttributePath] | None


class _AbsentAttribute(Exception):
    """The filter names an attribute that the resource type does not have."""


# Always false: every resource has an id. Standing for a comparison on an
# attribute that no resource of the type has, it needs no node of its own.
_NEVER = filters.Not(
    filters.Present(filters.AttributePath("id", type="string", case_exact=True))
)


class _Resolver:
    def __init__(
        self, resource_type: ResourceType, unknown: set[str] | None = None
    ) -> None:
        self.resource_type = resource_type
        self.unknown = unknown

    def filter(self, node: Any, scope: _Scope) -> filters.Filter:
        if isinstance(node, ast.Filter):
            if node.namespace is not None:
                try:
                    return self._value_path(node, scope)
                except _AbsentAttribute:
                    return _NEVER
            inner = self.filter(node.expr, scope)
            return filters.Not(inner) if node.negated else inner
        if isinstance(node, ast.LogExpr):
            left = self.filter(node.expr1, scope)
            right = self.filter(node.expr2, scope)
            if node.op.lower() == "and":
                return filters.And(left, right)
            return filters.Or(left, right)
        if isinstance(node, ast.AttrExpr):
            try:
                return self._expression(node, scope)
            except _AbsentAttribute:
                return _NEVER
        raise InvalidFilter(f"unexpected filter element {node!r}")

    def _value_path(self, node: Any, scope: _Scope) -> filters.Filter:
        """``emails[type eq "work"]``: a filter on one value at a time."""
        namespace = node.namespace
        if namespace.sub_attr is not None:
            raise InvalidFilter(
                f"'{namespace.attr_name}[...].{namespace.sub_attr.value}' "
                "needs a comparison after it"
            )
        attribute, path = self._bracketed(namespace, scope)
        return filters.ValuePath(path, self.filter(node.expr, (attribute, path)))

    def _bracketed(
        self, namespace: Any, scope: _Scope
    ) -> tuple[Attribute, filters.AttributePath]:
        if scope is not None:
            raise InvalidFilter("value filters cannot be nested")
        attribute, path = self._top_level(namespace.uri, namespace.attr_name)
        if attribute.type != "complex" or not attribute.multi_valued:
            raise InvalidFilter(
                f"{path} is not a multi-valued complex attribute, so it cannot "
                "take a value filter"
            )
        return attribute, path

    def _expression(self, node: Any, scope: _Scope) -> filters.Filter:
        op = node.value.lower()
        path_node = node.attr_path
        if not isinstance(path_node.attr_name, ast.Filter):
            path = self._path(path_node, scope)
            return self._comparison(path, op, node.comp_value)
        # emails[type eq "work"].value eq "x": the comparison applies to the
        # same value that the bracket filter selects.
        value_filter = path_node.attr_name
        namespace = value_filter.namespace
        attribute, path = self._bracketed(namespace, scope)
        if namespace.sub_attr is None:
            raise InvalidFilter(
                f"'{path}[...] {op}' compares a whole value; name a"
                f" sub-attribute, as in {path}[...].value {op} ..."
            )
        selected = self.filter(value_filter.expr, (attribute, path))
        sub_path = self._sub_path(attribute, path, namespace.sub_attr.value)
        comparison = self._comparison(sub_path, op, node.comp_value)
        return filters.ValuePath(path, filters.And(selected, comparison))

    def _comparison(
        self, path: filters.AttributePath, op: str, comp_value: Any
    ) -> filters.Filter:
        if op == "pr":
            return filters.Present(path)
        value = comp_value.value
        if value is None:
            if op not in {"eq", "ne"}:
                raise InvalidFilter(f"'{op} null' is meaningless; use eq or ne")
            # "eq null" asks that the attribute have no value at all, which
            # on a multi-valued attribute is not "some value is null".
            present = filters.Present(path)
            return filters.Not(present) if op == "eq" else present
        if op not in _OPERATORS[path.type]:
            if path.type == "complex":
                raise InvalidFilter(
                    f"{path} is complex: compare one of its sub-attributes"
                )
            raise InvalidFilter(f"'{op}' cannot be applied to {path} ({path.type})")
        return filters.Compare(path, op, _typed_value(path, op, value))

    # Attribute paths.

    def _path(self, node: Any, scope: _Scope) -> filters.AttributePath:
        """Resolve a library attribute path, inside brackets or not."""
        sub_name = node.sub_attr.value if node.sub_attr is not None else None
        if scope is not None:
            parent, parent_path = scope
            if node.uri is not None or sub_name is not None:
                raise InvalidFilter(
                    f"inside {parent_path}[...] only its sub-attributes can be named"
                )
            return self._sub_path(parent, parent_path, node.attr_name)
        attribute, path = self._top_level(node.uri, node.attr_name)
        if sub_name is None:
            return path
        return self._sub_path(attribute, path, sub_name)

    def _top_level(
        self, uri: str | None, name: Any
    ) -> tuple[Attribute, filters.AttributePath]:
        if not isinstance(name, str):
            # The library parses "a[x][y]" and "a[x].b[y]" into a filter
            # where an attribute name belongs.
            raise InvalidFilter("a value filter can follow only an attribute name")
        schema_id: str | None = None
        attribute: Attribute | None = None
        if uri is not None and uri.lower() != self.resource_type.schema.id.lower():
            extension = self.resource_type.extension(uri)
            if extension is None and self.unknown is None:
                raise InvalidFilter(f"unknown schema {uri}")
            if extension is not None:
                attribute = extension.attribute(name)
                schema_id = extension.id
        elif name.lower() == "schemas":
            return _SCHEMAS, SCHEMAS_PATH
        else:
            attribute = self.resource_type.core_attribute(name)
        if attribute is None:
            qualified = f"{uri}:{name}" if uri else name
            if self.unknown is not None:
                self.unknown.add(qualified)
                raise _AbsentAttribute(qualified)
            raise InvalidFilter(
                f"unknown attribute '{name}' on {self.resource_type.name}"
            )
        if attribute.returned == "never":
            raise InvalidFilter(f"{attribute.name} cannot be filtered on")
        path = filters.AttributePath(
            name=attribute.name,
            schema=schema_id,
            type=attribute.type,
            case_exact=attribute.case_exact,
            multi_valued=attribute.multi_valued,
        )
        return attribute, path

    @staticmethod
    def _sub_path(
        attribute: Attribute, path: filters.AttributePath, sub_name: str
    ) -> filters.AttributePath:
        sub = attribute.sub_attribute(sub_name)
        if sub is None:
            raise InvalidFilter(f"unknown sub-attribute '{sub_name}' of {path}")
        return filters.AttributePath(
            name=path.name,
            sub=sub.name,
            schema=path.schema,
            type=sub.type,
            case_exact=sub.case_exact,
            multi_valued=path.multi_valued,
        )


_SCHEMAS = Attribute(
    "schemas", "reference", multi_valued=True, case_exact=True, returned="always"
)


def _typed_value(path: filters.AttributePath, op: str, value: Any) -> filters.Value:
    """Check the comparison value against the attribute's type and convert it."""
    expected = path.type
    if expected in {"string", "reference", "binary"}:
        if not isinstance(value, str):
            raise InvalidFilter(f"{path} is a string; compare it with a string")
        # The search document folds exactly these (schema/search.py); the
        # schemas make references and binary values case exact.
        folded = expected == "string" and not path.case_exact
        return value.casefold() if folded else value
    if expected == "boolean":
        if not isinstance(value, bool):
            raise InvalidFilter(f"{path} is a boolean; compare it with true or false")
        return value
    if expected in {"integer", "decimal"}:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidFilter(f"{path} is a number; compare it with a number")
        if expected == "integer" and isinstance(value, float):
            raise InvalidFilter(f"{path} is an integer; compare it with an integer")
        return value
    if expected == "dateTime":
        return _date_time(path, value)
    raise InvalidFilter(f"'{op}' cannot be applied to {path} ({expected})")


def _date_time(path: filters.AttributePath, value: Any) -> datetime.datetime:
    if not isinstance(value, str):
        raise InvalidFilter(f"{path} is a dateTime; compare it with a quoted timestamp")
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidFilter(
            f"{value!r} is not a timestamp such as 2026-01-15T09:30:00Z"
        ) from None
    # xsd:dateTime without an offset is read as UTC, as stored values are.
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def parse_selection(
    resource_type: ResourceType,
    filter_text: str | None,
    sort_by: str | None,
    sort_order: str | None,
    unknown: set[str] | None = None,
) -> filters.Selection:
    """The storage selection for a list or search request's parameters.

    ``unknown`` is as for ``parse_filter``.
    """
    # A blank filter parameter filters nothing; it is not an empty filter.
    blank = filter_text is None or not filter_text.strip()
    parsed = None if blank else parse_filter(filter_text or "", resource_type, unknown)
    order = (sort_order or "ascending").lower()
    if order not in {"ascending", "descending"}:
        raise InvalidValue(f"sortOrder must be ascending or descending, not {order!r}")
    sort_path = None if not sort_by else parse_sort_path(sort_by, resource_type)
    return filters.Selection(
        filter=parsed, sort_by=sort_path, descending=order == "descending"
    )


def parse_sort_path(text: str, resource_type: ResourceType) -> filters.AttributePath:
    """Resolve ``sortBy`` (RFC 7644 §3.4.2.3): a singular attribute path."""
    try:
        tokens = list(FilterLexer().tokenize(text.strip()))
    except ValueError:
        tokens = []
    kinds = [token.type for token in tokens]
    if kinds and kinds[0] == "SCHEMA_URI":
        uri, kinds, tokens = tokens[0].value, kinds[1:], tokens[1:]
    else:
        uri = None
    if kinds not in (["ATTRNAME"], ["ATTRNAME", "SUBATTR"]):
        raise InvalidValue(f"sortBy {text!r} is not an attribute path")
    sub_attr = ast.SubAttr(tokens[1].value) if len(tokens) == 2 else None
    try:
        path = _Resolver(resource_type)._path(
            ast.AttrPath(tokens[0].value, sub_attr, uri), None
        )
    except InvalidFilter as ex:
        raise InvalidValue(f"sortBy: {ex.detail}") from None
    if path.type == "complex":
        raise InvalidValue(f"sortBy {path} is complex; name one of its sub-attributes")
    # A multi-valued attribute sorts by its primary value, else its first
    # (RFC 7644 §3.4.2.3); storage refuses the ones it cannot order.
    return path
