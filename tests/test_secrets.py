"""No secret is ever written anywhere it could be read back.

A token's whole life and a password's, through the API, with every log
record captured at DEBUG; then every table of the database is read whole.
Neither the token, nor its secret part, nor the password may appear.
"""

from __future__ import annotations

import logging

import falcon.testing
import peewee
import pytest

from tests.factories import user_body
from tokens import format as token_format

PASSWORD = "correct horse battery staple 42"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def every_stored_value(db: peewee.Database) -> list[str]:
    values = []
    for table in db.get_tables():
        cursor = db.execute_sql(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from the schema
        values += [str(value) for row in cursor.fetchall() for value in row]
    return values


@pytest.fixture
def everything_logged(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_a_tokens_life_and_a_password_leave_no_secret_behind(
    client, db, app, everything_logged
):
    user = client.simulate_post(
        "/scim/v2/Users", json=user_body("ada@example.com", password=PASSWORD)
    ).json
    client.simulate_patch(
        f"/scim/v2/Users/{user['id']}",
        json={
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "password", "value": PASSWORD}],
        },
    )
    created = client.simulate_post(
        "/api/2.0/token/create", json={"comment": "life", "lifetime_seconds": 600}
    ).json
    token = created["token_value"]
    holder = falcon.testing.TestClient(
        app, headers={"Authorization": f"Bearer {token}"}
    )
    assert holder.simulate_get("/scim/v2/Me").status_code == 200
    client.simulate_post(
        "/oauth2/introspect",
        body=f"token={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    client.simulate_post(
        "/api/2.0/token/delete", json={"token_id": created["token_info"]["token_id"]}
    )
    assert holder.simulate_get("/scim/v2/Me").status_code == 401

    secret = token_format.parse(token).secret
    logged = [record.getMessage() for record in everything_logged.records]
    logged += [str(record.args) for record in everything_logged.records]
    assert everything_logged.records, "the test must capture something to mean anything"
    for text in logged:
        assert secret not in text
        assert PASSWORD not in text
    stored = every_stored_value(db)
    assert any(created["token_info"]["token_id"] == value for value in stored)
    assert not [value for value in stored if secret in value or PASSWORD in value]
