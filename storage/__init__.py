"""Persistence for SCIM resources and tokens, on Peewee.

This package never imports Falcon or ``scim_server``: it stores and finds
records, and knows nothing about HTTP or the SCIM wire format beyond the JSON
document it keeps beside the indexed columns. It can be used and tested
without a web server.
"""

from storage.database import connect, transaction
from storage.errors import (
    DuplicateName,
    ResourceNotFound,
    StorageError,
    UnknownMembers,
    VersionMismatch,
)

__all__ = [
    "DuplicateName",
    "ResourceNotFound",
    "StorageError",
    "UnknownMembers",
    "VersionMismatch",
    "connect",
    "transaction",
]
