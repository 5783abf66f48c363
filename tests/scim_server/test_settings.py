"""Settings from SCIM_* environment variables: defaults, parsing, refusals."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from scim_server.bootstrap import token_policy
from scim_server.settings import Settings, SettingsError, parse_duration

DAY = datetime.timedelta(days=1)


def test_an_empty_environment_gives_the_documented_defaults():
    settings = Settings.from_env({})

    assert settings.data_dir == Path("data")
    assert settings.database_url == "sqlite:///data/scim.sqlite3"
    assert settings.token_key_file == Path("data/token-keys.json")
    assert settings.base_url == ""
    assert (settings.default_page_size, settings.max_page_size) == (100, 1000)
    assert settings.token_default_lifetime == 90 * DAY
    assert settings.token_max_lifetime == 365 * DAY
    assert settings.password_log2_n == 15
    assert settings.database_pool_size == 8
    assert settings.cursor_lifetime == datetime.timedelta(hours=1)
    assert settings.token_quota == 100
    assert settings.token_unused_days == 0


def test_blank_variables_count_as_unset():
    blank = {"SCIM_DATA_DIR": " ", "SCIM_MAX_PAGE_SIZE": "", "SCIM_BASE_URL": "  "}

    assert Settings.from_env(blank) == Settings.from_env({})


def test_paths_follow_the_data_dir_unless_set_themselves():
    derived = Settings.from_env({"SCIM_DATA_DIR": "/srv/scim"})
    explicit = Settings.from_env(
        {
            "SCIM_DATA_DIR": "/srv/scim",
            "SCIM_DATABASE_URL": "postgresql://scim@db/scim",
            "SCIM_TOKEN_KEY_FILE": "/etc/scim/keys.json",
        }
    )

    assert derived.database_url == "sqlite:////srv/scim/scim.sqlite3"
    assert derived.token_key_file == Path("/srv/scim/token-keys.json")
    assert explicit.database_url == "postgresql://scim@db/scim"
    assert explicit.token_key_file == Path("/etc/scim/keys.json")


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"),
    [
        (
            "SCIM_BASE_URL",
            "https://scim.example.com/",
            "base_url",
            "https://scim.example.com",
        ),
        ("SCIM_DEFAULT_PAGE_SIZE", " 25 ", "default_page_size", 25),
        ("SCIM_MAX_PAGE_SIZE", "5000", "max_page_size", 5000),
        ("SCIM_PASSWORD_SCRYPT_LOG2_N", "17", "password_log2_n", 17),
        ("SCIM_DATABASE_POOL_SIZE", "20", "database_pool_size", 20),
        ("SCIM_BULK_MAX_OPERATIONS", "50", "bulk_max_operations", 50),
        ("SCIM_BULK_MAX_PAYLOAD_SIZE", "65536", "bulk_max_payload_size", 65536),
        ("SCIM_TOKEN_DEFAULT_LIFETIME", "30d", "token_default_lifetime", 30 * DAY),
        ("SCIM_TOKEN_MAX_LIFETIME", "never", "token_max_lifetime", None),
        ("SCIM_TOKEN_QUOTA", "5", "token_quota", 5),
        ("SCIM_TOKEN_QUOTA", "0", "token_quota", 0),
        ("SCIM_TOKEN_UNUSED_DAYS", "90", "token_unused_days", 90),
        (
            "SCIM_CURSOR_LIFETIME",
            "15m",
            "cursor_lifetime",
            datetime.timedelta(minutes=15),
        ),
    ],
)
def test_each_variable_sets_its_setting(variable, value, attribute, expected):
    settings = Settings.from_env({variable: value})

    assert getattr(settings, attribute) == expected


def test_tokens_without_expiry_by_default_need_no_maximum():
    settings = Settings.from_env(
        {"SCIM_TOKEN_DEFAULT_LIFETIME": "never", "SCIM_TOKEN_MAX_LIFETIME": "never"}
    )

    assert settings.token_default_lifetime is None
    assert settings.token_max_lifetime is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3600", datetime.timedelta(hours=1)),
        ("45s", datetime.timedelta(seconds=45)),
        ("30m", datetime.timedelta(minutes=30)),
        ("12h", datetime.timedelta(hours=12)),
        ("90d", 90 * DAY),
        ("2w", 14 * DAY),
        (" 90 D ", 90 * DAY),
        ("never", None),
        ("None", None),
        ("0", None),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "d", "1.5d", "-1d", "1y", "90 days", "forever"])
def test_parse_duration_refuses_what_it_cannot_read_and_quotes_it(text):
    with pytest.raises(SettingsError) as excinfo:
        parse_duration(text)

    assert repr(text) in str(excinfo.value)


# An operator who sets a value that cannot work hears so at start-up, from a
# message naming the variable, rather than from the first request it breaks.
@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SCIM_DEFAULT_PAGE_SIZE", "fifty"),
        ("SCIM_MAX_PAGE_SIZE", "1e3"),
        ("SCIM_DATABASE_POOL_SIZE", "8.5"),
        ("SCIM_PASSWORD_SCRYPT_LOG2_N", "high"),
        ("SCIM_DEFAULT_PAGE_SIZE", "0"),
        ("SCIM_MAX_PAGE_SIZE", "10"),
        ("SCIM_TOKEN_MAX_LIFETIME", "forever"),
        ("SCIM_PASSWORD_SCRYPT_LOG2_N", "0"),
        ("SCIM_PASSWORD_SCRYPT_LOG2_N", "40"),
        ("SCIM_CURSOR_LIFETIME", "never"),
        ("SCIM_CURSOR_LIFETIME", "0"),
        ("SCIM_TOKEN_DEFAULT_LIFETIME", "400d"),
        ("SCIM_TOKEN_DEFAULT_LIFETIME", "never"),
        ("SCIM_BULK_MAX_OPERATIONS", "0"),
        ("SCIM_BULK_MAX_PAYLOAD_SIZE", "-1"),
        ("SCIM_BULK_MAX_PAYLOAD_SIZE", "1MiB"),
        ("SCIM_TOKEN_QUOTA", "-1"),
        ("SCIM_TOKEN_QUOTA", "lots"),
        ("SCIM_TOKEN_UNUSED_DAYS", "-1"),
        ("SCIM_TOKEN_UNUSED_DAYS", "90d"),
        ("SCIM_TOKEN_UNUSED_DAYS", "36501"),
    ],
)
def test_unusable_values_are_refused_naming_the_variable(variable, value):
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({variable: value})

    assert variable in str(excinfo.value)


def test_default_page_size_may_equal_the_maximum():
    settings = Settings.from_env(
        {"SCIM_DEFAULT_PAGE_SIZE": "10", "SCIM_MAX_PAGE_SIZE": "10"}
    )

    assert settings.default_page_size == settings.max_page_size == 10


def test_the_clock_keeps_milliseconds_only():
    from scim_server.settings import utc_now

    now = utc_now()

    assert now.microsecond % 1000 == 0
    assert now.tzinfo is not None


@pytest.mark.parametrize(
    ("environ", "quota", "unused_limit"),
    [
        pytest.param({}, 100, None, id="defaults"),
        pytest.param({"SCIM_TOKEN_QUOTA": "0"}, None, None, id="no-quota"),
        pytest.param({"SCIM_TOKEN_UNUSED_DAYS": "30"}, 100, 30 * DAY, id="idle-limit"),
    ],
)
def test_token_policy_follows_the_settings(environ, quota, unused_limit):
    policy = token_policy(Settings.from_env(environ))

    assert (policy.quota, policy.unused_limit) == (quota, unused_limit)
