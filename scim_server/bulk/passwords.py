"""Hashing the passwords of a bulk job before its transactions begin."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from scim_server.bulk.request import Operation, lower_keys
from scim_server.passwords import PasswordHasher


@dataclasses.dataclass(frozen=True)
class PrehashedPasswords(PasswordHasher):
    """A hasher that hands out hashes made before the job's transactions.

    scrypt takes tens of milliseconds per password by design; inside a
    transaction that would hold SQLite's write lock as long for each user
    with a password. Each hash is handed out once, so two users with the same
    password still get different salts; a password not met in advance is
    hashed when asked for.
    """

    ready: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def hash(self, password: str) -> str:
        waiting = self.ready.get(password)
        return waiting.pop() if waiting else super().hash(password)


def prehash_passwords(
    hasher: PasswordHasher, operations: Sequence[Operation]
) -> PrehashedPasswords:
    """Hash every password the operations set on users, ahead of time."""
    ready: dict[str, list[str]] = {}
    for operation in operations:
        for password in _passwords(operation):
            ready.setdefault(password, []).append(hasher.hash(password))
    return PrehashedPasswords(hasher.log2_n, hasher.r, hasher.p, ready=ready)


def _passwords(operation: Operation) -> list[str]:
    """The passwords a user operation sets: in a POST or PUT body, or a PATCH."""
    data = operation.data
    if operation.error or operation.endpoint != "/Users":
        return []
    if not isinstance(data, Mapping):
        return []
    fields = lower_keys(data)
    if operation.method != "PATCH":
        values = [fields.get("password")]
    elif isinstance(fields.get("operations"), list):
        values = [_patched_password(op) for op in fields["operations"]]
    else:
        values = []
    return [value for value in values if isinstance(value, str) and value]


def _patched_password(patch_operation: Any) -> Any:
    if not isinstance(patch_operation, Mapping):
        return None
    fields = lower_keys(patch_operation)
    path, value = fields.get("path"), fields.get("value")
    if isinstance(path, str) and path.strip().lower() == "password":
        return value
    if path is None and isinstance(value, Mapping):
        return lower_keys(value).get("password")
    return None
