"""The scim-server command, run in-process against the test database."""

from __future__ import annotations

import pytest

from scim_server.cli import main
from storage import groups as group_store
from storage import users as user_store
from tokens import KeyRing, verify


@pytest.fixture
def environment(monkeypatch, tmp_path, database_url, db):
    monkeypatch.setenv("SCIM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SCIM_DATABASE_URL", database_url)
    monkeypatch.setenv("SCIM_PASSWORD_SCRYPT_LOG2_N", "4")
    return tmp_path


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_init_creates_keys_groups_and_an_admin_whose_token_works(
    environment, capsys, clock
):
    status = main(["init", "--admin-user", "root@example.com"])

    out, err = capsys.readouterr()
    token = last_line(out)
    keys = KeyRing.load(environment / "token-keys.json")
    principal = verify(keys, token, now=clock())
    assert status == 0
    assert principal.user_name == "root@example.com"
    assert principal.is_admin
    assert group_store.find_builtin_group("users") is not None
    assert "shown only now" in err
    assert (environment / "token-keys.json").stat().st_mode & 0o777 == 0o600


def test_init_again_changes_nothing_and_prints_no_token(environment, capsys):
    main(["init"])
    capsys.readouterr()

    status = main(["init"])

    out, err = capsys.readouterr()
    assert status == 0
    assert out == ""
    assert "scim-server token create --user admin" in err
    assert user_store.count_users() == 1


def test_token_create_prints_only_the_token_on_stdout(environment, capsys, clock):
    main(["init"])
    capsys.readouterr()

    status = main(["token", "create", "--user", "ADMIN", "--lifetime", "2h",
                   "--comment", "ci"])  # fmt: skip

    out, err = capsys.readouterr()
    keys = KeyRing.load(environment / "token-keys.json")
    assert status == 0
    assert len(out.strip().splitlines()) == 1
    assert verify(keys, out.strip(), now=clock()).user_name == "admin"
    assert "for admin" in err


def test_token_create_for_an_unknown_user_fails_clearly(environment, capsys):
    main(["init"])
    capsys.readouterr()

    status = main(["token", "create", "--user", "nobody"])

    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert "no user 'nobody'" in err


@pytest.mark.parametrize("lifetime", ["400d", "forever", "never"])
def test_token_create_refuses_lifetimes_outside_policy(environment, capsys, lifetime):
    main(["init"])
    capsys.readouterr()

    status = main(["token", "create", "--user", "admin", "--lifetime", lifetime])

    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.startswith("scim-server: ")


def test_token_create_without_key_file_explains_what_to_do(environment, capsys):
    status = main(["token", "create", "--user", "admin"])

    _, err = capsys.readouterr()
    assert status == 2
    assert "scim-server init" in err
