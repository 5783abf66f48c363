"""Bulk operations (RFC 7644 §3.7): many writes to Users and Groups at once.

``parse_bulk_request`` reads a BulkRequest into ``Operation``s, ``plan``
orders them, and ``run_bulk`` runs them and answers the BulkResponse. Nothing
here knows about HTTP: the ``/Bulk`` resource reads the body within the
published size limit and hands over the parsed document.

Order and bulkId references
    A POST names the resource it creates with a ``bulkId``; any operation
    refers to that resource as ``"bulkId:<bulkId>"``, either as a whole value
    anywhere in its data (a group member's ``value``, an enterprise user's
    ``manager.value``) or in place of the id in its path
    (``/Groups/bulkId:ytrewq``). The server puts the new id in its place
    (§3.7.2). Operations run in the order of the request, except that a POST
    runs just before the first operation that refers to it, so references
    may point forwards as well as backwards; results are listed in the order
    of the request.

Circular references
    POSTs may refer to each other in a cycle, such as two users who are each
    other's manager. §3.7.1 asks the server to try to resolve such a cycle,
    and allows a 409 after a failed attempt. A cycle runs as one unit: each
    resource is created without the references to resources of the cycle
    that do not exist yet, and once all of them exist, each resource that
    had to wait is replaced with its complete data. If any operation of the
    cycle fails, none of them leaves anything behind: the one that failed
    reports its own error and the others 409. Groups that would contain each
    other, the RFC's own example, end that way, since group membership may
    not form a cycle: the write that would close it is 400 invalidValue.

Failures
    A failed operation is reported in its place and the others go on (§3.7),
    until ``failOnErrors`` operations have failed; operations not run then
    are not listed. A reference to a POST that failed is answered 409, like
    an unresolved cycle; a reference to a bulkId that no POST of the request
    declares is 400 ``invalidValue``, since it could never name anything. An
    error the server did not expect stops the job: that operation is
    answered 500 and the error is logged once.

Transactions
    Consecutive operations share a transaction of up to ``COMMIT_EVERY``
    operations, so that one commit covers many writes; on SQLite that about
    halves the time a job of a thousand users takes. The cap bounds how long
    SQLite's write lock, which a transaction holds from its start, keeps
    other writers waiting, and how long PostgreSQL keeps rows locked. A
    failed operation still leaves nothing behind: each is one call of
    ``Provisioning``, whose writes run in one transaction, a savepoint within
    the job's; a cycle gets one savepoint around all its writes. Passwords
    are hashed before the first transaction begins, never under the lock.
"""

from scim_server.bulk.job import BULK_RESPONSE, run_bulk
from scim_server.bulk.passwords import PrehashedPasswords, prehash_passwords
from scim_server.bulk.plan import Step, plan
from scim_server.bulk.request import (
    BULK_REQUEST,
    BulkRequest,
    Operation,
    find_references,
    parse_bulk_request,
)

__all__ = [
    "BULK_REQUEST",
    "BULK_RESPONSE",
    "BulkRequest",
    "Operation",
    "PrehashedPasswords",
    "Step",
    "find_references",
    "parse_bulk_request",
    "plan",
    "prehash_passwords",
    "run_bulk",
]
