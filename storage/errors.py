"""Errors that storage raises; the HTTP layer maps them to SCIM errors."""


class StorageError(Exception):
    """Base class of every error this package raises on purpose."""


class ResourceNotFound(StorageError):
    """No resource of the requested type has the given id."""

    def __init__(self, resource_type: str, resource_id: str) -> None:
        super().__init__(f"{resource_type} {resource_id} not found")
        self.resource_type = resource_type
        self.resource_id = resource_id


class DuplicateName(StorageError):
    """A unique name (userName, group displayName) is already taken."""

    def __init__(self, attribute: str, value: str) -> None:
        super().__init__(f"{attribute} {value!r} is already in use")
        self.attribute = attribute
        self.value = value


class UnknownMembers(StorageError):
    """Group members refer to ids that are neither users nor groups."""

    def __init__(self, member_ids: list[str]) -> None:
        shown = ", ".join(member_ids[:10])
        more = f" and {len(member_ids) - 10} more" if len(member_ids) > 10 else ""
        super().__init__(f"no user or group has id {shown}{more}")
        self.member_ids = member_ids


class VersionMismatch(StorageError):
    """The resource changed since the version the caller based its write on."""


class MembershipCycle(StorageError):
    """New members would make a group contain itself, through other groups.

    ``cycle`` lists the groups as ``(id, displayName)`` pairs, each a member
    of the one before it, starting and ending with the group being changed.
    """

    def __init__(self, cycle: list[tuple[int, str]]) -> None:
        names = [f'"{name}"' for _, name in cycle]
        chain = ", which contains ".join(names[1:])
        super().__init__(f"{names[0]} would contain {chain}")
        self.cycle = cycle
