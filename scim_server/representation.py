"""Turning stored records into SCIM resources, with meta and references."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from scim_server.projection import Projection
from storage import groups as group_store
from storage import users as user_store
from storage.records import GroupRecord, UserRecord

Resource = dict[str, Any]


def timestamp(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, the form most SCIM clients parse."""
    return (
        moment.astimezone(datetime.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def etag(version: int) -> str:
    """The weak entity tag of a resource version (RFC 7644 §3.14)."""
    return f'W/"{version}"'


def _meta(
    resource_type: str, record: UserRecord | GroupRecord, location: str
) -> dict[str, str]:
    return {
        "resourceType": resource_type,
        "created": timestamp(record.created),
        "lastModified": timestamp(record.last_modified),
        "location": location,
        "version": etag(record.version),
    }


def location(endpoint: str, base_url: str, resource_id: int) -> str:
    return f"{base_url}{endpoint}/{resource_id}"


def user_location(base_url: str, user_id: int) -> str:
    return location("/Users", base_url, user_id)


def group_location(base_url: str, group_id: int) -> str:
    return location("/Groups", base_url, group_id)


def _head(record: UserRecord | GroupRecord) -> Resource:
    """The resource with ``schemas`` and ``id`` first, as people expect."""
    return {
        "schemas": record.document["schemas"],
        "id": str(record.id),
        **record.document,
    }


def users(
    records: Sequence[UserRecord], base_url: str, projection: Projection
) -> list[Resource]:
    """Render users; their groups are read in one query, only if wanted.

    ``groups`` lists direct and indirect memberships, each group once
    (RFC 7643 §4.1.2), the built-in ``users`` among them.
    """
    memberships = (
        user_store.groups_of_users(record.id for record in records)
        if projection.includes("groups")
        else {}
    )
    rendered = []
    for record in records:
        resource: Resource = _head(record)
        groups = memberships.get(record.id)
        if groups:
            resource["groups"] = [
                {
                    "value": str(group.id),
                    "$ref": group_location(base_url, group.id),
                    "display": group.display,
                    "type": group.type,
                }
                for group in groups
            ]
        resource["meta"] = _meta("User", record, user_location(base_url, record.id))
        rendered.append(projection.apply(resource))
    return rendered


def groups(
    records: Sequence[GroupRecord], base_url: str, projection: Projection
) -> list[Resource]:
    """Render groups; members are read in one query, only if wanted.

    ``members`` lists direct members only (RFC 7643 §4.2); those of the
    built-in ``users`` are every user, however many.
    """
    members = (
        group_store.listed_members(records) if projection.includes("members") else {}
    )
    rendered = []
    for record in records:
        resource: Resource = _head(record)
        if members.get(record.id):
            resource["members"] = [
                {
                    "value": str(member.id),
                    "$ref": (
                        user_location(base_url, member.id)
                        if member.type == "User"
                        else group_location(base_url, member.id)
                    ),
                    "display": member.display,
                    "type": member.type,
                }
                for member in members[record.id]
            ]
        resource["meta"] = _meta("Group", record, group_location(base_url, record.id))
        rendered.append(projection.apply(resource))
    return rendered
