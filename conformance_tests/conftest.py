"""Fixtures and markers of the black-box conformance suite.

Given ``--scim-base-url`` and ``--scim-token`` (or ``SCIM_CONFORMANCE_URL``
and ``SCIM_CONFORMANCE_TOKEN``), the suite tests that server. Given neither,
it starts this repository's server once for the session and stops it at the
end.

Markers:

- ``requires_feature("sort")`` skips a test unless /ServiceProviderConfig
  advertises the feature; a dotted name such as ``pagination.cursor`` reads a
  nested flag.
- ``known_bug("...")`` marks a reported bug of this repository's server. It
  becomes a strict xfail when the suite runs that server itself, so a fix
  shows up as a failure until the mark goes; against any other server the
  test counts as written.
- ``beyond_rfc`` marks a check of a promise this repository makes where the
  RFCs leave the choice open; deselect with ``-m "not beyond_rfc"``.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance_tests.local_server import LocalServer
from conformance_tests.provisioner import Provisioner
from conformance_tests.scim_http import ENTERPRISE_USER_SCHEMA, SCIMClient


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("scim", "SCIM conformance suite")
    group.addoption(
        "--scim-base-url",
        default=os.environ.get("SCIM_CONFORMANCE_URL") or None,
        help="base URL of the SCIM server to test, such as "
        "https://scim.example.com/scim/v2 (default: start this repository's "
        "server; environment: SCIM_CONFORMANCE_URL)",
    )
    group.addoption(
        "--scim-token",
        default=os.environ.get("SCIM_CONFORMANCE_TOKEN") or None,
        help="bearer token for --scim-base-url (environment: SCIM_CONFORMANCE_TOKEN)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_feature(name): skip unless /ServiceProviderConfig advertises it",
    )
    config.addinivalue_line(
        "markers", "known_bug(reason): a reported bug of this repository's server"
    )
    config.addinivalue_line(
        "markers", "beyond_rfc: a promise of this repository the RFCs leave open"
    )
    url = config.getoption("scim_base_url", None)
    token = config.getoption("scim_token", None)
    if bool(url) != bool(token):
        raise pytest.UsageError("give --scim-base-url and --scim-token together")


def runs_own_server(config: pytest.Config) -> bool:
    """Whether the suite starts this repository's server, given no URL."""
    return not config.getoption("scim_base_url", None)


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not runs_own_server(config):
        return
    for item in items:
        for marker in item.iter_markers("known_bug"):
            item.add_marker(pytest.mark.xfail(reason=marker.args[0], strict=True))


@pytest.fixture(scope="session")
def own_server(request: pytest.FixtureRequest) -> bool:
    return runs_own_server(request.config)


@pytest.fixture(scope="session")
def client(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    own_server: bool,
) -> Iterator[SCIMClient]:
    """A client of the server under test, sending a token that may do anything."""
    if not own_server:
        url = request.config.getoption("scim_base_url")
        yield SCIMClient(url, request.config.getoption("scim_token"))
        return
    with LocalServer(Path(tmp_path_factory.mktemp("scim-server"))) as server:
        yield SCIMClient(server.base_url, server.token)


@pytest.fixture(scope="session")
def service_provider_config(client: SCIMClient) -> dict[str, Any]:
    response = client.get("/ServiceProviderConfig")
    assert response.status == 200, str(response)
    return dict(response.json())


@pytest.fixture(scope="session")
def resource_types(client: SCIMClient) -> dict[str, dict[str, Any]]:
    """The server's ResourceTypes by name."""
    response = client.get("/ResourceTypes")
    assert response.status == 200, str(response)
    return {item["name"]: item for item in response.json()["Resources"]}


@pytest.fixture(scope="session")
def schemas(client: SCIMClient) -> dict[str, dict[str, Any]]:
    """The server's Schemas by id."""
    response = client.get("/Schemas")
    assert response.status == 200, str(response)
    return {item["id"]: item for item in response.json()["Resources"]}


@pytest.fixture(scope="session")
def has_enterprise_user(resource_types: dict[str, dict[str, Any]]) -> bool:
    extensions = resource_types["User"].get("schemaExtensions", [])
    return any(item["schema"] == ENTERPRISE_USER_SCHEMA for item in extensions)


@pytest.fixture
def enterprise_user(has_enterprise_user: bool) -> None:
    """Skip a test that needs the Enterprise User extension (RFC 7643 §4.3)."""
    if not has_enterprise_user:
        pytest.skip("the User resource type lists no Enterprise User extension")


def advertises(config: dict[str, Any], feature: str) -> bool:
    """Whether ServiceProviderConfig says ``feature`` is supported.

    ``patch`` reads ``patch.supported`` (RFC 7643 §5); ``pagination.cursor``
    reads that flag of RFC 9865's ``pagination`` object.
    """
    value: Any = config
    for part in feature.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, dict):
        value = value.get("supported")
    return value is True


@pytest.fixture(autouse=True)
def _skip_unadvertised_features(request: pytest.FixtureRequest) -> None:
    features = [
        marker.args[0] for marker in request.node.iter_markers("requires_feature")
    ]
    if not features:
        return
    config = request.getfixturevalue("service_provider_config")
    missing = [feature for feature in features if not advertises(config, feature)]
    if missing:
        pytest.skip(f"/ServiceProviderConfig does not advertise {', '.join(missing)}")


@pytest.fixture(scope="session")
def prefixes() -> Iterator[str]:
    """Name prefixes, distinct in this session and random across sessions."""
    session = secrets.token_hex(3)
    return (f"ct{session}-{number}-" for number in itertools.count(1))


@pytest.fixture
def provisioner(client: SCIMClient, prefixes: Iterator[str]) -> Iterator[Provisioner]:
    """Creates resources for one test and deletes them after it."""
    created = Provisioner(client, next(prefixes))
    yield created
    created.delete_all()


@pytest.fixture(scope="module")
def module_provisioner(
    client: SCIMClient, prefixes: Iterator[str]
) -> Iterator[Provisioner]:
    """Creates resources that a module's tests share, deleted after the module."""
    created = Provisioner(client, next(prefixes))
    yield created
    created.delete_all()
