"""The Databricks SDK for Python, unchanged, against a running server.

Tools written for Databricks should work against this server as they are;
this drives the real SDK (``databricks-sdk``) over HTTP through the calls
such tools make for users, groups and tokens.
"""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceConflict
from databricks.sdk.service import iam

from tests.factories import user_body


@pytest.fixture
def workspace(server):
    return WorkspaceClient(
        host=f"http://127.0.0.1:{server.port}", token=server.token, auth_type="pat"
    )


def test_current_user_and_users(workspace, server):
    status, _, created = server.request("POST", "/Users", user_body("ada@example.com"))
    assert status == 201

    assert workspace.current_user.me().user_name == "admin"
    found = list(workspace.users.list(filter='userName eq "ada@example.com"'))
    assert [user.id for user in found] == [created["id"]]
    # The SDK pages with a large count until a page comes back empty.
    assert {user.user_name for user in workspace.users.list()} >= {
        "admin",
        "ada@example.com",
    }
    assert workspace.users.get(created["id"]).user_name == "ada@example.com"


def test_groups_and_members(workspace, server):
    _, _, ada = server.request("POST", "/Users", user_body("ada@example.com"))

    group = workspace.groups.create(display_name="Growth team")
    workspace.groups.patch(
        group.id,
        operations=[
            iam.Patch(op=iam.PatchOp.ADD, path="members", value=[{"value": ada["id"]}])
        ],
        schemas=[iam.PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP],
    )

    fetched = workspace.groups.get(group.id)
    assert [member.value for member in fetched.members] == [ada["id"]]
    names = {g.display_name for g in workspace.groups.list()}
    assert names == {"admins", "users", "Growth team"}
    with pytest.raises(ResourceConflict):
        workspace.groups.create(display_name="growth TEAM")
    workspace.groups.delete(group.id)
    with pytest.raises(NotFound):
        workspace.groups.get(group.id)


def test_tokens_and_token_management(workspace):
    created = workspace.tokens.create(comment="from the SDK", lifetime_seconds=3600)

    assert created.token_value.startswith("scimpat_")
    assert created.token_info.comment == "from the SDK"
    token_id = created.token_info.token_id
    assert token_id in {info.token_id for info in workspace.tokens.list()}
    managed = list(workspace.token_management.list(created_by_username="admin"))
    assert token_id in {info.token_id for info in managed}
    assert workspace.token_management.get(token_id).token_info.token_id == token_id

    workspace.tokens.delete(token_id)

    assert token_id not in {info.token_id for info in workspace.tokens.list()}
    with pytest.raises(NotFound):
        workspace.token_management.get(token_id)
