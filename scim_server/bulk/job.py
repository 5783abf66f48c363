"""Running the operations of a bulk job and answering its BulkResponse."""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from scim_server.bulk.passwords import prehash_passwords
from scim_server.bulk.plan import Step, plan
from scim_server.bulk.request import BulkRequest, Location, Operation, bulk_id_in
from scim_server.errors import Conflict, InvalidValue, SCIMError, from_storage_error
from scim_server.provisioning import Precondition, Provisioning
from scim_server.representation import etag
from storage.database import transaction
from storage.errors import StorageError
from storage.records import GroupRecord, UserRecord

log = logging.getLogger(__name__)

BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
# Operations per transaction: enough that commits cost little per operation,
# few enough that another writer never waits long for SQLite's write lock.
COMMIT_EVERY = 100
# TODO: on PostgreSQL two bulk jobs that change the same resources in
# opposite orders within one transaction can deadlock; the database then
# aborts a statement of one, which is answered 500 and stops that job.
# Committing and retrying the operation in a fresh transaction would fix it.

Record = UserRecord | GroupRecord
Result = dict[str, Any]


def run_bulk(
    provisioning: Provisioning, request: BulkRequest, base_url: str
) -> dict[str, Any]:
    """Run a BulkRequest and answer its BulkResponse (RFC 7644 §3.7.3)."""
    passwords = prehash_passwords(provisioning.passwords, request.operations)
    provisioning = dataclasses.replace(provisioning, passwords=passwords)
    results = _Job(provisioning, request, base_url).run()
    return {"schemas": [BULK_RESPONSE], "Operations": results}


@dataclasses.dataclass(frozen=True)
class _Endpoint:
    create: Callable[[Any], Record]
    replace: Callable[[str, Any, Precondition | None], Record]
    patch: Callable[[str, Any, Precondition | None], Record]
    delete: Callable[[str, Precondition | None], None]


class _Failure(Exception):
    """An operation failed; the savepoint around it is rolled back."""

    def __init__(self, operation: Operation, error: SCIMError) -> None:
        super().__init__(error.detail)
        self.operation = operation
        self.error = error


class _Job:
    """The state of one bulk job: created ids, results, errors so far."""

    def __init__(
        self, provisioning: Provisioning, request: BulkRequest, base_url: str
    ) -> None:
        self._endpoints = {
            "/Users": _Endpoint(
                provisioning.create_user,
                provisioning.replace_user,
                provisioning.patch_user,
                provisioning.delete_user,
            ),
            "/Groups": _Endpoint(
                provisioning.create_group,
                provisioning.replace_group,
                provisioning.patch_group,
                provisioning.delete_group,
            ),
        }
        self._request = request
        self._base_url = base_url
        self._declared = {
            operation.creates
            for operation in request.operations
            if operation.creates is not None
        }
        self._created: dict[str, str] = {}  # bulkId: the id of its resource
        self._results: dict[int, Result] = {}
        self._errors = 0
        self._stopped = False

    def run(self) -> list[Result]:
        """Run the operations; the results of those that ran, in request order."""
        for batch in _batches(plan(self._request.operations)):
            with transaction():
                self._run_batch(batch)
            if self._stopped:
                break
        return [self._results[number] for number in sorted(self._results)]

    def _run_batch(self, batch: Sequence[Step]) -> None:
        for step in batch:
            self._run_step(step)
            if self._stopped:
                return

    def _run_step(self, step: Step) -> None:
        try:
            if step.circular:
                # A cycle takes several writes: one savepoint around them all.
                with transaction():
                    results = self._run_cycle(step.operations)
            else:
                # One write, which Provisioning runs in a transaction of its
                # own (a savepoint here): another savepoint would only cost
                # two more statements, round trips on PostgreSQL.
                (operation,) = step.operations
                results = {operation.number: self._run(operation)}
        except _Failure as failure:
            self._fail(step, failure)
            return
        self._results.update(results)

    def _run(
        self, operation: Operation, leave_out: frozenset[Location] = frozenset()
    ) -> Result:
        """Perform one operation.

        ``leave_out`` names references to resources that do not exist yet;
        the complex values holding them are left out of the data for now.
        """

        def perform() -> Result:
            if operation.error is not None:
                raise operation.error
            return self._perform(operation, self._resolved(operation, leave_out))

        return self._attempt(operation, perform)

    def _attempt(self, operation: Operation, action: Callable[[], Result]) -> Result:
        """Run ``action`` for ``operation``; raise _Failure for any error."""
        try:
            return action()
        except SCIMError as ex:
            raise _Failure(operation, ex) from None
        except StorageError as ex:
            raise _Failure(operation, from_storage_error(ex)) from None
        except Exception as ex:
            # The next operation would likely meet the same fault: stop.
            log.error(
                "unexpected error in operation %d of a bulk request",
                operation.number,
                exc_info=ex,
            )
            self._stopped = True
            error = SCIMError("internal server error")
            error.status = 500
            raise _Failure(operation, error) from ex

    def _run_cycle(self, operations: Sequence[Operation]) -> dict[int, Result]:
        """Create the resources of a cycle, then complete those that waited."""
        cycle = {operation.creates for operation in operations}
        results = {}
        waited = []
        for operation in operations:
            later = frozenset(
                location
                for location, bulk_id in operation.references.items()
                if bulk_id in cycle and bulk_id not in self._created
            )
            results[operation.number] = self._run(operation, leave_out=later)
            if later:
                waited.append(operation)
        for operation in waited:
            results[operation.number] = self._complete(operation)
        return results

    def _complete(self, operation: Operation) -> Result:
        """Replace a resource of a cycle with its full data, references and all."""
        resource_id = self._created[str(operation.bulk_id)]
        endpoint = self._endpoints[operation.endpoint]

        def complete() -> Result:
            data = _resolve(operation.data, operation.references, self._id_of)
            # The password was set by the POST, and the data holds no id.
            data = {
                key: value
                for key, value in data.items()
                if key.lower() not in {"password", "id"}
            }
            record = endpoint.replace(resource_id, data, None)
            return self._result(operation, "201", resource_id, record.version)

        return self._attempt(operation, complete)

    def _resolved(self, operation: Operation, leave_out: frozenset[Location]) -> Any:
        if not leave_out:
            return _resolve(operation.data, operation.references, self._id_of)
        now = {
            location: bulk_id
            for location, bulk_id in operation.references.items()
            if location not in leave_out
        }
        data = _resolve(copy.deepcopy(operation.data), now, self._id_of)
        return _without(data, leave_out)

    # TODO: a POST in a bulk job runs the statements of a single POST (for a
    # user: a name check, an id, the row, one INSERT per email, all inside a
    # savepoint), which bounds how much faster a bulk job can be, most of all
    # on PostgreSQL where each is a round trip; a storage call that inserts
    # consecutive new users with a few multi-row INSERTs would save most.
    def _perform(self, operation: Operation, data: Any) -> Result:
        endpoint = self._endpoints[operation.endpoint]
        if operation.method == "POST":
            record = endpoint.create(data)
            self._created[str(operation.bulk_id)] = str(record.id)
            return self._result(operation, "201", str(record.id), record.version)
        target = self._target(operation)
        precondition = _precondition(operation.version)
        if operation.method == "DELETE":
            endpoint.delete(target, precondition)
            return self._result(operation, "204", target)
        change = endpoint.replace if operation.method == "PUT" else endpoint.patch
        record = change(target, data, precondition)
        return self._result(operation, "200", target, record.version)

    def _target(self, operation: Operation) -> str:
        target = str(operation.target)
        bulk_id = bulk_id_in(target)
        return target if bulk_id is None else self._id_of(bulk_id)

    def _id_of(self, bulk_id: str) -> str:
        """The id of the resource a bulkId names, once its POST has run."""
        if bulk_id in self._created:
            return self._created[bulk_id]
        if bulk_id in self._declared:
            raise Conflict(
                f"bulkId:{bulk_id} names no resource: the operation that was to"
                " create it failed"
            )
        raise InvalidValue(f"no POST in this request has bulkId {bulk_id!r}")

    def _fail(self, step: Step, failure: _Failure) -> None:
        for operation in step.operations:
            if operation.creates is not None:
                # Rolled back with the savepoint: the resource is gone.
                self._created.pop(operation.creates, None)
        for operation in step.operations:
            error = failure.error
            if operation is not failure.operation:
                error = Conflict(
                    "the circular references between bulkIds "
                    + ", ".join(str(op.bulk_id) for op in step.operations)
                    + f" could not be resolved: operation {failure.operation.number}"
                    " failed"
                )
            self._results[operation.number] = self._error_result(operation, error)
            self._errors += 1
        limit = self._request.fail_on_errors
        if limit is not None and self._errors >= limit:
            self._stopped = True

    def _result(
        self,
        operation: Operation,
        status: str,
        resource_id: str | None = None,
        version: int | None = None,
    ) -> Result:
        result: Result = {}
        if operation.method:
            result["method"] = operation.method
        if operation.bulk_id is not None:
            result["bulkId"] = operation.bulk_id
        if resource_id is not None:
            result["location"] = f"{self._base_url}{operation.endpoint}/{resource_id}"
        if version is not None:
            result["version"] = etag(version)
        result["status"] = status
        return result

    def _error_result(self, operation: Operation, error: SCIMError) -> Result:
        # A failed POST has no location (RFC 7644 §3.7.3); any other
        # operation names the resource it was meant for, when that is known.
        resource_id = None
        if operation.method != "POST" and operation.target is not None:
            bulk_id = bulk_id_in(operation.target)
            resource_id = (
                operation.target if bulk_id is None else self._created.get(bulk_id)
            )
        result = self._result(operation, str(error.status), resource_id)
        result["response"] = error.body()
        return result


def _batches(steps: Sequence[Step]) -> Iterator[list[Step]]:
    """Steps in groups of at least COMMIT_EVERY operations, one per transaction."""
    batch: list[Step] = []
    size = 0
    for step in steps:
        batch.append(step)
        size += len(step.operations)
        if size >= COMMIT_EVERY:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _precondition(version: str | None) -> Precondition | None:
    """An operation's ``version`` as the If-Match it stands for (§3.7, §3.14)."""
    if version is None:
        return None
    tag = version.strip()
    if tag == "*":
        return Precondition(versions=None)
    tag = tag.removeprefix("W/")
    if len(tag) >= 2 and tag[0] == tag[-1] == '"':
        tag = tag[1:-1]
    return Precondition(versions=frozenset({tag}))


def _resolve(
    data: Any, references: Mapping[Location, str], id_of: Callable[[str], str]
) -> Any:
    """``data`` with each reference replaced by the id it names, in place."""
    for location, bulk_id in references.items():
        if not location:
            return id_of(bulk_id)
        container = data
        for key in location[:-1]:
            container = container[key]
        container[location[-1]] = id_of(bulk_id)
    return data


def _without(data: Any, locations: frozenset[Location]) -> Any:
    """``data`` without the complex values that hold the given references.

    A reference inside a complex value (``{"value": "bulkId:a"}``) takes the
    whole value with it, so no half-made member or manager is stored; any
    other reference is removed by itself.
    """
    doomed = set()
    for location in locations:
        parent = location[:-1]
        doomed.add(
            parent if parent and isinstance(_at(data, parent), dict) else location
        )
    # From the last to the first, so removing a list element never shifts
    # the index of another one still to be removed.
    for location in sorted(doomed, reverse=True):
        del _at(data, location[:-1])[location[-1]]
    return data


def _at(data: Any, location: Location) -> Any:
    for key in location:
        data = data[key]
    return data
