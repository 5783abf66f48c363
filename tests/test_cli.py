"""The scim-server command, run in-process against the test database."""

from __future__ import annotations

import datetime

import orjson
import pytest

from scim_server.cli import main
from scim_server.settings import utc_now
from storage import groups as group_store
from storage import users as user_store
from tokens import InvalidToken, KeyRing, TokenPolicy, find_token, issue, verify
from tokens import format as token_format


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


@pytest.fixture
def initialised(environment, capsys):
    """An initialised server; returns the first admin's token."""
    main(["init"])
    out, _ = capsys.readouterr()
    return last_line(out)


def key_ring(environment) -> KeyRing:
    return KeyRing.load(environment / "token-keys.json")


def create_token(capsys, *arguments: str) -> str:
    status = main(["token", "create", "--user", "admin", *arguments])
    out, _ = capsys.readouterr()
    assert status == 0
    return out.strip()


def test_token_create_with_scopes_narrows_the_token(
    environment, initialised, capsys, clock
):
    token = create_token(capsys, "--scope", "scim:read", "--scope", "tokens")

    principal = verify(key_ring(environment), token, now=clock())

    assert principal.scopes == {"scim:read", "tokens"}


def test_token_create_refuses_an_unknown_scope(environment, initialised, capsys):
    status = main(["token", "create", "--user", "admin", "--scope", "root"])

    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert "unknown scope root" in err


def test_token_list_shows_each_token_without_its_secret(
    environment, initialised, capsys
):
    second = create_token(capsys, "--comment", "deploy bot", "--scope", "tokens")

    status = main(["token", "list", "--user", "admin"])

    out, _ = capsys.readouterr()
    header, *rows = out.strip().splitlines()
    assert status == 0
    assert header.split()[:3] == ["ID", "HINT", "STATE"]
    assert len(rows) == 2
    assert token_format.hint(second) in rows[1]
    assert "deploy bot" in rows[1]
    assert " tokens " in rows[1]
    for token in (initialised, second):
        assert token_format.parse(token).secret[4:] not in out


def test_token_list_for_an_unknown_user_fails_clearly(environment, capsys):
    status = main(["token", "list", "--user", "nobody"])

    _, err = capsys.readouterr()
    assert status == 1
    assert "no user 'nobody'" in err


def test_token_revoke_stops_the_token_at_once(environment, initialised, capsys, clock):
    token = create_token(capsys)
    token_id = verify(key_ring(environment), token, now=clock()).token_id

    status = main(["token", "revoke", str(token_id)])

    _, err = capsys.readouterr()
    assert status == 0
    assert f"Revoked token {token_id}" in err
    with pytest.raises(InvalidToken):
        verify(key_ring(environment), token, now=clock())


def test_token_revoke_twice_says_so(environment, initialised, capsys, clock):
    token_id = verify(key_ring(environment), initialised, now=clock()).token_id
    main(["token", "revoke", str(token_id)])
    capsys.readouterr()

    status = main(["token", "revoke", str(token_id)])

    _, err = capsys.readouterr()
    assert status == 0
    assert "already revoked" in err


@pytest.mark.parametrize("action", ["revoke", "rotate"])
def test_token_commands_on_an_unknown_id_fail_clearly(environment, capsys, action):
    main(["init"])
    capsys.readouterr()

    status = main(["token", action, "42"])

    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert "no token 42" in err


def test_token_rotate_prints_a_replacement_and_shortens_the_old_token(
    environment, initialised, capsys
):
    old = verify(key_ring(environment), initialised, now=utc_now())

    status = main(["token", "rotate", str(old.token_id), "--grace", "2h"])

    out, err = capsys.readouterr()
    new = verify(key_ring(environment), out.strip(), now=utc_now())
    remaining = find_token(old.token_id).expires - utc_now()
    assert status == 0
    assert new.user_id == old.user_id
    assert new.token_id != old.token_id
    assert datetime.timedelta(hours=1) < remaining <= datetime.timedelta(hours=2)
    assert f"replaces {old.token_id}" in err


@pytest.mark.parametrize("grace", ["never", "soon"])
def test_token_rotate_refuses_a_grace_that_is_not_a_duration(
    environment, initialised, capsys, grace
):
    status = main(["token", "rotate", "1", "--grace", grace])

    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.startswith("scim-server: ")


def test_tokens_sweep_revokes_tokens_unused_for_the_configured_days(
    environment, initialised, capsys, monkeypatch
):
    monkeypatch.setenv("SCIM_TOKEN_UNUSED_DAYS", "2")
    admin = user_store.find_user_by_name("admin")
    policy = TokenPolicy(default_lifetime=None, max_lifetime=None)
    stale = issue(
        key_ring(environment),
        policy,
        user_id=admin.id,
        now=utc_now() - datetime.timedelta(days=3),
    )

    status = main(["tokens", "sweep"])

    out, err = capsys.readouterr()
    assert status == 0
    assert out.split() == [str(stale.id)]
    assert "Revoked 1 token unused for 2 days" in err
    assert find_token(stale.id).revoked is not None


def test_tokens_sweep_does_nothing_when_unused_tokens_are_kept(
    environment, initialised, capsys
):
    status = main(["tokens", "sweep"])

    out, err = capsys.readouterr()
    assert status == 0
    assert out == ""
    assert "SCIM_TOKEN_UNUSED_DAYS is 0" in err


def test_keys_rotate_adds_a_current_key_and_older_tokens_keep_working(
    environment, initialised, capsys, clock
):
    before = key_ring(environment)

    status = main(["keys", "rotate"])

    _, err = capsys.readouterr()
    after = key_ring(environment)
    newer = create_token(capsys)
    assert status == 0
    assert after.current != before.current
    assert set(after.keys) == {before.current, after.current}
    assert verify(after, initialised, now=clock()).user_name == "admin"
    assert token_format.parse(newer).key_id == after.current
    assert (environment / "token-keys.json").stat().st_mode & 0o777 == 0o600
    assert "restart" in err


def test_keys_retire_refuses_while_live_tokens_use_the_key(
    environment, initialised, capsys, clock
):
    old_key = key_ring(environment).current
    main(["keys", "rotate"])
    capsys.readouterr()

    status = main(["keys", "retire", old_key])

    _, err = capsys.readouterr()
    assert status == 2
    assert "in use by live tokens (1)" in err
    assert "--revoke-tokens" in err
    assert old_key in key_ring(environment).keys
    assert verify(key_ring(environment), initialised, now=clock()).is_admin


def test_keys_retire_with_revoke_tokens_revokes_them_and_drops_the_key(
    environment, initialised, capsys, clock
):
    old_key = key_ring(environment).current
    token_id = verify(key_ring(environment), initialised, now=clock()).token_id
    main(["keys", "rotate"])
    capsys.readouterr()

    status = main(["keys", "retire", old_key, "--revoke-tokens"])

    _, err = capsys.readouterr()
    assert status == 0
    assert old_key not in key_ring(environment).keys
    assert find_token(token_id).revoked is not None
    assert "revoking 1 token." in err


def test_keys_retire_refuses_the_current_key(environment, initialised, capsys):
    current = key_ring(environment).current

    status = main(["keys", "retire", current, "--revoke-tokens"])

    _, err = capsys.readouterr()
    assert status == 2
    assert "current key" in err
    assert current in key_ring(environment).keys


def test_token_events_prints_a_tokens_audit_log_oldest_first(
    environment, initialised, capsys
):
    token_id = verify(key_ring(environment), initialised, now=utc_now()).token_id
    main(["token", "revoke", str(token_id)])
    capsys.readouterr()

    status = main(["token", "events", str(token_id)])

    out, _ = capsys.readouterr()
    lines = [orjson.loads(line) for line in out.splitlines()]
    assert status == 0
    assert [line["event"] for line in lines] == ["created", "first_used", "revoked"]
    assert {line["token_id"] for line in lines} == {token_id}
    assert token_format.parse(initialised).secret[4:] not in out


def test_admin_add_makes_a_user_an_admin_once(environment, initialised, capsys, clock):
    from storage.records import UserFields

    user = user_store.create_user(
        UserFields(user_name="ops@example.com", document={}, search={}), now=clock()
    )

    assert main(["admin", "add", "OPS@example.com"]) == 0
    assert main(["admin", "add", "ops@example.com"]) == 0
    _, err = capsys.readouterr()
    assert "Added ops@example.com to admins." in err
    assert "already in admins" in err
    token = issue(
        key_ring(environment),
        TokenPolicy(default_lifetime=None, max_lifetime=None),
        user_id=user.id,
        now=clock(),
    ).token
    assert verify(key_ring(environment), token, now=clock()).is_admin

    assert main(["admin", "list"]) == 0
    out, _ = capsys.readouterr()
    assert out.split() == ["admin", "ops@example.com"]


def test_admin_add_for_an_unknown_user_fails_clearly(environment, initialised, capsys):
    assert main(["admin", "add", "nobody"]) == 1
    _, err = capsys.readouterr()
    assert "no user 'nobody'" in err
