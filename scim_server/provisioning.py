"""Creating, replacing, reading and deleting Users and Groups.

This is the domain layer between the HTTP resources and storage: it
validates documents against the schemas, hashes passwords, turns SCIM ids
into storage ids and calls one storage function per operation. Nothing here
knows about HTTP, so it is tested directly.

Each write runs in one transaction, so a call that fails leaves nothing
behind; called inside a transaction (a bulk job's), that one is a savepoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from scim_server.errors import InvalidValue, Mutability, PreconditionFailed
from scim_server.listing import Page
from scim_server.passwords import PasswordHasher
from scim_server.patch import (
    MemberChanges,
    Members,
    apply_patch,
    parse_patch_request,
)
from scim_server.schema import ResourceType, group_type, user_type
from scim_server.schema.search import search_document
from scim_server.schema.validation import check_immutable, parse_resource
from scim_server.settings import Settings
from storage import admins
from storage import groups as group_store
from storage import users as user_store
from storage.compiler import Position
from storage.database import transaction
from storage.errors import MembershipCycle, ResourceNotFound
from storage.filters import Selection
from storage.ids import parse_id
from storage.records import (
    EmailRow,
    GroupFields,
    GroupRecord,
    MemberChange,
    UserFields,
    UserRecord,
)

RecordT = TypeVar("RecordT", UserRecord, GroupRecord)


@dataclasses.dataclass(frozen=True)
class Precondition:
    """The versions of a resource that a write may change (``If-Match``).

    ``versions`` holds the opaque parts of the entity tags the client sent;
    None stands for ``*``, any version of an existing resource. SCIM's tags
    are weak (RFC 7644 §3.14) yet clients send them in If-Match, so tags are
    compared by their opaque value, whatever their weakness.
    """

    versions: frozenset[str] | None

    def check(self, version: int) -> None:
        if self.versions is not None and str(version) not in self.versions:
            raise PreconditionFailed(
                f'the resource is at version W/"{version}", not the one in If-Match'
            )


def _check(precondition: Precondition | None, version: int) -> None:
    if precondition is not None:
        precondition.check(version)


@dataclasses.dataclass(frozen=True)
class Provisioning:
    settings: Settings
    passwords: PasswordHasher

    @property
    def user_type(self) -> ResourceType:
        return user_type()

    @property
    def group_type(self) -> ResourceType:
        return group_type()

    # Users

    def create_user(self, body: Any) -> UserRecord:
        fields = self._user_fields(body, creating=True)
        return user_store.create_user(
            fields, now=self.settings.clock(), id_source=self.settings.id_source
        )

    def get_user(self, user_id: str) -> UserRecord:
        record = user_store.find_user(_storage_id("User", user_id))
        if record is None:
            raise ResourceNotFound("User", user_id)
        return record

    def replace_user(
        self, user_id: str, body: Any, precondition: Precondition | None = None
    ) -> UserRecord:
        """Replace a user's writable attributes (RFC 7644 §3.5.1)."""
        storage_id = _storage_id("User", user_id)
        _check_body_id(body, user_id)
        # Validating and hashing come first: the lock is held only for the
        # read and the write.
        fields = self._user_fields(body)
        with transaction():
            current = self._lock_user(storage_id, user_id)
            _check(precondition, current.version)
            return self._write_user(current, fields)

    def patch_user(
        self, user_id: str, body: Any, precondition: Precondition | None = None
    ) -> UserRecord:
        """Apply a PatchOp request to a user (RFC 7644 §3.5.2), atomically."""
        operations = parse_patch_request(self.user_type, body)
        storage_id = _storage_id("User", user_id)
        # A first pass without the lock finds errors and the new password,
        # if any, so that the slow hash is not computed under the lock. A
        # password's value never depends on the rest of the resource.
        unlocked = self.get_user(user_id)
        trial = apply_patch(
            self.user_type, unlocked.document, operations, resource_id=user_id
        )
        password = trial.document.get("password")
        password_hash = self.passwords.hash(password) if password else None
        with transaction():
            current = self._lock_user(storage_id, user_id)
            _check(precondition, current.version)
            patched = apply_patch(
                self.user_type, current.document, operations, resource_id=user_id
            )
            patched.document.pop("password", None)
            fields = self._user_fields(patched.document)
            if password_hash is None and fields.document == current.document:
                # A PATCH that changes nothing, such as adding a value the
                # user has, leaves lastModified and the version alone
                # (RFC 7644 §3.5.2.1).
                return current
            if password_hash is not None:
                fields = dataclasses.replace(fields, password_hash=password_hash)
            return self._write_user(current, fields)

    def delete_user(
        self, user_id: str, precondition: Precondition | None = None
    ) -> None:
        storage_id = _storage_id("User", user_id)
        with transaction():
            current = self._lock_user(storage_id, user_id)
            _check(precondition, current.version)
            user_store.delete_user(current.id)
            _check_an_admin_remains("deleted")

    def _write_user(self, current: UserRecord, fields: UserFields) -> UserRecord:
        """Replace the locked ``current`` with ``fields``, in its transaction."""
        check_immutable(self.user_type, current.document, fields.document)
        record = user_store.replace_user(
            current.id,
            fields,
            now=self.settings.clock(),
            expected_version=current.version,
        )
        if not record.active:
            _check_an_admin_remains("deactivated")
        return record

    def _lock_user(self, storage_id: int, user_id: str) -> UserRecord:
        record = user_store.lock_user(storage_id)
        if record is None:
            raise ResourceNotFound("User", user_id)
        return record

    def list_users(
        self, page: Page, selection: Selection
    ) -> tuple[int, list[UserRecord]]:
        return _index_page(
            page,
            lambda: user_store.count_users(selection),
            lambda: user_store.list_users(page.offset, page.count, selection),
        )

    def count_users(self, selection: Selection) -> int:
        return user_store.count_users(selection)

    def page_users(
        self, selection: Selection, after: Position | None, count: int, backwards: bool
    ) -> list[tuple[UserRecord, Position]]:
        return user_store.page_of_users(selection, after, count, backwards=backwards)

    def _user_fields(self, body: Any, *, creating: bool = False) -> UserFields:
        document = parse_resource(self.user_type, body)
        password = document.pop("password", None)
        if creating:
            # A new user is active unless the client says otherwise; keeping
            # that in the document makes what is returned and filtered agree
            # with who may authenticate.
            document.setdefault("active", True)
        # A later PUT without "active", or a PATCH removing it, leaves the
        # attribute unassigned (RFC 7644 §3.5.1, §3.5.2.2). That does not
        # deactivate anyone: only "active": false does.
        return UserFields(
            user_name=document["userName"],
            display_name=document.get("displayName"),
            external_id=document.get("externalId"),
            active=document.get("active", True),
            emails=tuple(
                EmailRow(
                    value=email["value"],
                    type=email.get("type"),
                    primary=email.get("primary"),
                )
                for email in document.get("emails", ())
                if "value" in email
            ),
            password_hash=self.passwords.hash(password) if password else None,
            document=document,
            search=search_document(self.user_type, document),
        )

    # Groups

    def create_group(self, body: Any) -> GroupRecord:
        fields, member_ids = self._group_fields(body)
        return group_store.create_group(
            fields,
            member_ids or [],
            now=self.settings.clock(),
            id_source=self.settings.id_source,
        )

    def get_group(self, group_id: str) -> GroupRecord:
        record = group_store.find_group(_storage_id("Group", group_id))
        if record is None:
            raise ResourceNotFound("Group", group_id)
        return record

    def replace_group(
        self, group_id: str, body: Any, precondition: Precondition | None = None
    ) -> GroupRecord:
        storage_id = _storage_id("Group", group_id)
        _check_body_id(body, group_id)
        fields, member_ids = self._group_fields(body)
        if storage_id in (member_ids or ()):
            raise InvalidValue("a group cannot be a member of itself")
        with transaction():
            current = self._lock_group(storage_id, group_id)
            _check(precondition, current.version)
            self._check_group_change(current, fields)
            # A PUT without "members" clears them (RFC 7644 §3.5.1).
            with _refusing_cycles():
                record = group_store.replace_group(
                    current.id,
                    fields,
                    member_ids or [],
                    now=self.settings.clock(),
                    expected_version=current.version,
                )
            _check_an_admin_remains("removed from admins")
            return record

    def patch_group(
        self, group_id: str, body: Any, precondition: Precondition | None = None
    ) -> GroupRecord:
        """Apply a PatchOp request to a group (RFC 7644 §3.5.2), atomically.

        Member operations become row inserts and deletes; the current member
        list is read only for a filter that selects members by something
        other than their ids.
        """
        operations = parse_patch_request(self.group_type, body)
        storage_id = _storage_id("Group", group_id)
        with transaction():
            current = self._lock_group(storage_id, group_id)
            _check(precondition, current.version)
            patched = apply_patch(
                self.group_type,
                current.document,
                operations,
                resource_id=group_id,
                members=Members(
                    load=lambda: _member_values(current.id),
                    parse_id=_member_value_id,
                ),
            )
            fields, _ = self._group_fields(patched.document)
            self._check_group_change(current, fields)
            members = patched.members
            if fields.document == current.document and members.unchanged:
                return current
            # TODO: adding a member the group already has still counts as a
            # change (a new version), since telling would cost a read.
            with _refusing_cycles():
                record = group_store.replace_group(
                    current.id,
                    fields,
                    None if members.replacement is None else list(members.replacement),
                    now=self.settings.clock(),
                    expected_version=current.version,
                    change=_member_change(members),
                )
            # Adding members cannot take anyone's admin rights away.
            if members.replacement is not None or members.removed:
                _check_an_admin_remains("removed from admins")
            return record

    def delete_group(
        self, group_id: str, precondition: Precondition | None = None
    ) -> None:
        storage_id = _storage_id("Group", group_id)
        with transaction():
            current = self._lock_group(storage_id, group_id)
            _check(precondition, current.version)
            if current.builtin:
                raise Mutability(
                    f"the built-in group {current.display_name!r} cannot be deleted"
                )
            group_store.delete_group(current.id)
            _check_an_admin_remains("removed from admins")

    def _lock_group(self, storage_id: int, group_id: str) -> GroupRecord:
        record = group_store.lock_group(storage_id)
        if record is None:
            raise ResourceNotFound("Group", group_id)
        return record

    def _check_group_change(self, current: GroupRecord, fields: GroupFields) -> None:
        check_immutable(self.group_type, current.document, fields.document)
        if current.builtin and fields.display_name != current.display_name:
            raise Mutability(
                f"the built-in group {current.display_name!r} cannot be renamed"
            )

    def list_groups(
        self, page: Page, selection: Selection
    ) -> tuple[int, list[GroupRecord]]:
        return _index_page(
            page,
            lambda: group_store.count_groups(selection),
            lambda: group_store.list_groups(page.offset, page.count, selection),
        )

    def count_groups(self, selection: Selection) -> int:
        return group_store.count_groups(selection)

    def page_groups(
        self, selection: Selection, after: Position | None, count: int, backwards: bool
    ) -> list[tuple[GroupRecord, Position]]:
        return group_store.page_of_groups(selection, after, count, backwards=backwards)

    def _group_fields(self, body: Any) -> tuple[GroupFields, list[int] | None]:
        document = parse_resource(self.group_type, body)
        # Members live in their own table; the document keeps the rest.
        members = document.pop("members", None)
        fields = GroupFields(
            display_name=document["displayName"],
            external_id=document.get("externalId"),
            document=document,
            search=search_document(self.group_type, document),
        )
        if members is None:
            return fields, None
        return fields, [_member_id(member) for member in members]


def _index_page(
    page: Page, count: Callable[[], int], rows: Callable[[], list[RecordT]]
) -> tuple[int, list[RecordT]]:
    """A page of an index listing and the total of the listing.

    A page that comes back short is the last one, so its rows give the total
    without a count: the lookups identity providers make (``userName eq``
    with startIndex=1) cost one query instead of two.
    """
    if page.count == 0:
        return count(), []
    found = rows()
    if len(found) < page.count and (found or page.offset == 0):
        return page.offset + len(found), found
    return count(), found


def _check_an_admin_remains(change: str) -> None:
    """Refuse, inside the write's transaction, to leave no active admin."""
    if not admins.an_active_admin_exists():
        raise Mutability(
            f"the last active admin cannot be {change}; make another user an"
            " admin first"
        )


@contextlib.contextmanager
def _refusing_cycles() -> Iterator[None]:
    """Refuse members that would make a group contain itself.

    Storage checks inside the write's transaction, with the group locked, so
    that concurrent writes cannot close a cycle between them; a POST needs no
    check, since nothing can contain a group that does not exist yet.
    """
    try:
        yield
    except MembershipCycle as ex:
        raise InvalidValue(
            f"a group cannot contain itself, even through other groups: {ex}"
        ) from ex


def _storage_id(resource_type: str, resource_id: str) -> int:
    """The storage id behind a SCIM id; a string that is none is not found."""
    parsed = parse_id(resource_id)
    if parsed is None:
        raise ResourceNotFound(resource_type, resource_id)
    return parsed


def _member_id(member: Mapping[str, Any]) -> int:
    return _member_value_id(member["value"])


def _member_value_id(value: Any) -> int:
    parsed = parse_id(value) if isinstance(value, str) else None
    if parsed is None:
        raise InvalidValue(f"unknown members: no user or group has id {value}")
    return parsed


def _member_values(group_id: int) -> list[dict[str, Any]]:
    """A group's members as SCIM values, for PATCH filters that need them."""
    return [
        {"value": str(member.id), "type": member.type, "display": member.display}
        for member in group_store.members_of_groups([group_id])[group_id]
    ]


def _member_change(members: MemberChanges) -> MemberChange | None:
    if members.replacement is not None or not (members.added or members.removed):
        return None
    return MemberChange(added=tuple(members.added), removed=tuple(members.removed))


def _check_body_id(body: Any, resource_id: str) -> None:
    """An ``id`` in a PUT body must be the one in the URL, if present."""
    if isinstance(body, Mapping):
        for key, value in body.items():
            if key.lower() == "id" and value is not None and str(value) != resource_id:
                raise InvalidValue(
                    f"the id in the body ({value}) differs from the URL's"
                    f" ({resource_id})"
                )
