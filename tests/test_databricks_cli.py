"""The legacy Databricks CLI's own API classes against a running server.

``databricks-cli`` (0.18, the last legacy release) sends JSON labelled
``text/json``, on GETs too, and reads every success as JSON. Its
``ApiClient`` keeps only the host name of ``DATABRICKS_HOST`` and drops the
port, so the client is pointed at the test server's port after it is made;
everything it sends is its own.
"""

from __future__ import annotations

import pytest
from databricks_cli.groups.api import GroupsApi
from databricks_cli.sdk.api_client import ApiClient
from databricks_cli.tokens.api import TokensApi

from tests.factories import user_body


@pytest.fixture
def api_client(server):
    client = ApiClient(host="http://127.0.0.1", token=server.token)
    client.url = f"http://127.0.0.1:{server.port}/api/"
    return client


def test_groups_through_the_legacy_cli(api_client, server):
    server.request("POST", "/Users", user_body("someone@example.com"))
    groups = GroupsApi(api_client)

    assert groups.create("Growth team") == {"group_name": "Growth team"}
    groups.add_member("Growth team", "someone@example.com", None)
    groups.create("Inner")
    groups.add_member("Growth team", None, "Inner")

    assert groups.list_members("Growth team") == {
        "members": [{"user_name": "someone@example.com"}, {"group_name": "Inner"}]
    }
    assert groups.list_parents("someone@example.com", None) == {
        "group_names": ["Growth team"]
    }
    assert "Growth team" in groups.list_all()["group_names"]

    groups.remove_member("Growth team", "someone@example.com", None)
    assert groups.list_members("Growth team") == {"members": [{"group_name": "Inner"}]}
    groups.delete("Growth team")
    assert "Growth team" not in groups.list_all()["group_names"]


def test_tokens_through_the_legacy_cli(api_client):
    tokens = TokensApi(api_client)

    created = tokens.create(3600, "legacy cli")
    token_id = created["token_info"]["token_id"]

    assert created["token_value"].startswith("scimpat_")
    assert token_id in {info["token_id"] for info in tokens.list()["token_infos"]}
    assert tokens.revoke(token_id) == {}
    assert token_id not in {info["token_id"] for info in tokens.list()["token_infos"]}
