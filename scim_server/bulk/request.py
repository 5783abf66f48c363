"""Reading a BulkRequest (RFC 7644 §3.7) into operations.

Each operation keeps the bulkId references found in its path and data, and
the error that stops it from running, if any: a problem with one operation
is reported in its place instead of failing the whole request.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from scim_server.errors import (
    InvalidPath,
    InvalidSyntax,
    InvalidValue,
    PayloadTooLarge,
    SCIMError,
)

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
METHODS = ("POST", "PUT", "PATCH", "DELETE")
REFERENCE = "bulkId:"
# Resources nest a few levels at most (an extension's complex attribute, a
# PatchOp's value); refusing deeper data lets the code that copies and
# validates it recurse without running out of stack.
MAX_DEPTH = 32

_PATH = re.compile(r"(?P<endpoint>/Users|/Groups)(?:/(?P<target>[^/]+))?/?")

Location = tuple[str | int, ...]  # keys and indexes from the root of the data


@dataclasses.dataclass
class Operation:
    """One operation of a BulkRequest, as far as it could be read.

    ``error`` holds why the operation cannot run as sent; it is reported in
    the operation's place while the others run.
    """

    number: int  # its position in the request, from 1
    method: str = ""
    bulk_id: str | None = None
    version: str | None = None
    endpoint: str = ""  # "/Users" or "/Groups"
    target: str | None = None  # the id in the path, or a bulkId reference
    data: Any = None
    references: dict[Location, str] = dataclasses.field(default_factory=dict)
    error: SCIMError | None = None

    @property
    def creates(self) -> str | None:
        """The bulkId this operation gives the resource it creates."""
        return self.bulk_id if self.method == "POST" else None

    def referred(self) -> list[str]:
        """The bulkIds this operation refers to, path first, without repeats."""
        in_path = bulk_id_in(self.target)
        named = [in_path] if in_path is not None else []
        return list(dict.fromkeys([*named, *self.references.values()]))


@dataclasses.dataclass(frozen=True)
class BulkRequest:
    operations: list[Operation]
    fail_on_errors: int | None = None


def parse_bulk_request(body: Any, max_operations: int) -> BulkRequest:
    """Read a BulkRequest; raise only for what spoils the whole request.

    A problem with one operation stays on that operation, so that the others
    still run (RFC 7644 §3.7). More than ``max_operations`` operations is
    413 (§3.7.4).
    """
    if not isinstance(body, Mapping):
        raise InvalidSyntax("a BulkRequest must be a JSON object")
    fields = lower_keys(body)
    _check_schemas(fields.get("schemas"))
    raw_operations = fields.get("operations")
    if not isinstance(raw_operations, list):
        raise InvalidSyntax('"Operations" must be a list')
    if len(raw_operations) > max_operations:
        raise PayloadTooLarge(
            f"the request holds {len(raw_operations)} operations;"
            f" maxOperations is {max_operations}"
        )
    operations = [
        _parse_operation(number, raw)
        for number, raw in enumerate(raw_operations, start=1)
    ]
    _check_unique_bulk_ids(operations)
    return BulkRequest(operations, _fail_on_errors(fields.get("failonerrors")))


def lower_keys(fields: Mapping[Any, Any]) -> dict[str, Any]:
    """``fields`` with lower-case keys: names are case-insensitive (RFC 7643 §2.1)."""
    return {str(key).lower(): value for key, value in fields.items()}


def _check_schemas(schemas: Any) -> None:
    if isinstance(schemas, str):
        schemas = [schemas]
    if not isinstance(schemas, list) or BULK_REQUEST.lower() not in {
        str(urn).lower() for urn in schemas
    }:
        raise InvalidSyntax(f'"schemas" must be ["{BULK_REQUEST}"]')


def _fail_on_errors(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidSyntax('"failOnErrors" must be a positive integer')
    return value


def _check_unique_bulk_ids(operations: Sequence[Operation]) -> None:
    # A repeated bulkId would make every reference to it ambiguous, so the
    # request is refused before anything runs.
    declared: dict[str, int] = {}
    for operation in operations:
        bulk_id = operation.creates
        if bulk_id is None:
            continue
        if bulk_id in declared:
            raise InvalidSyntax(
                f"operations {declared[bulk_id]} and {operation.number} both have"
                f" bulkId {bulk_id!r}; a bulkId must be unique within a request"
            )
        declared[bulk_id] = operation.number


def _parse_operation(number: int, raw: Any) -> Operation:
    if not isinstance(raw, Mapping):
        error = InvalidSyntax(f"operation {number} must be a JSON object")
        return Operation(number, error=error)
    fields = lower_keys(raw)
    method, bulk_id = fields.get("method"), fields.get("bulkid")
    operation = Operation(
        number,
        method=method.upper() if isinstance(method, str) else "",
        bulk_id=bulk_id if isinstance(bulk_id, str) and bulk_id else None,
    )
    try:
        _read_operation(operation, fields)
    except SCIMError as ex:
        operation.error = ex
    return operation


def _read_operation(operation: Operation, fields: Mapping[str, Any]) -> None:
    where = f"operation {operation.number}"
    if operation.method not in METHODS:
        raise InvalidSyntax(f'{where}: "method" must be POST, PUT, PATCH or DELETE')
    if fields.get("bulkid") is not None and operation.bulk_id is None:
        raise InvalidSyntax(f'{where}: "bulkId" must be a non-empty string')
    if operation.method == "POST" and operation.bulk_id is None:
        raise InvalidValue(f'{where}: a POST needs a "bulkId"')
    version = fields.get("version")
    if version is not None and not isinstance(version, str):
        raise InvalidSyntax(f'{where}: "version" must be an entity tag')
    operation.version = version
    operation.endpoint, operation.target = _parse_path(
        operation.method, fields.get("path"), where
    )
    if operation.method != "DELETE":
        if fields.get("data") is None:
            raise InvalidValue(f'{where}: a {operation.method} needs "data"')
        operation.data = fields["data"]
        operation.references = find_references(operation.data)


def _parse_path(method: str, path: Any, where: str) -> tuple[str, str | None]:
    """The endpoint and target id of an operation's ``path`` (RFC 7644 §3.7)."""
    if not isinstance(path, str):
        raise InvalidPath(f'{where}: "path" must be a string such as "/Users"')
    match = _PATH.fullmatch(path)
    if match is None:
        raise InvalidPath(f"{where}: {path!r} is not /Users, /Groups or one of theirs")
    endpoint, target = match["endpoint"], match["target"]
    if method == "POST" and target is not None:
        raise InvalidPath(f"{where}: a POST goes to {endpoint}, not to {path!r}")
    if method != "POST" and target is None:
        raise InvalidPath(f"{where}: a {method} needs a resource, {endpoint}/{{id}}")
    return endpoint, target


def find_references(data: Any) -> dict[Location, str]:
    """Where ``data`` holds a ``bulkId:`` reference, and the bulkId it names.

    A reference is a whole string value, in document order. Data nested
    deeper than ``MAX_DEPTH`` is refused.
    """
    # TODO: a bulkId inside a PATCH path filter, as in
    # members[value eq "bulkId:qwerty"], is not resolved, because only whole
    # values are references; resolving it means finding the filter's string
    # literals, which needs the PATCH path parser's view of the path.
    found: dict[Location, str] = {}
    pending: list[tuple[Location, Any]] = [((), data)]
    while pending:
        location, value = pending.pop()
        children: list[tuple[Location, Any]]
        if isinstance(value, dict):
            children = [((*location, key), item) for key, item in value.items()]
        elif isinstance(value, list):
            children = [((*location, i), item) for i, item in enumerate(value)]
        else:
            bulk_id = bulk_id_in(value)
            if bulk_id is not None:
                found[location] = bulk_id
            continue
        if len(location) >= MAX_DEPTH:
            raise InvalidSyntax(f"data nested deeper than {MAX_DEPTH} levels")
        pending.extend(reversed(children))
    return found


def bulk_id_in(value: Any) -> str | None:
    """The bulkId that ``value`` refers to, if it is a ``bulkId:`` reference."""
    if isinstance(value, str) and value.startswith(REFERENCE):
        return value[len(REFERENCE) :] or None
    return None
