"""Credentials: one kind per connection, chosen by layer precedence and natscli's order."""

from __future__ import annotations

from pathlib import Path

import pytest

from jstui.config import ConfigError
from tests.config.helpers import FAKE_JWT, creds_text, new_seed, resolve, write_context

# --- user / password / token precedence --------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "env_value", "ctx", "expected"),
    [
        ("flaguser", "envuser", "ctxuser", "flaguser"),
        (None, "envuser", "ctxuser", "envuser"),
        (None, None, "ctxuser", "ctxuser"),
        (None, None, None, None),
    ],
)
def test_user_precedence(
    config_home: Path,
    env: dict[str, str],
    flag: str | None,
    env_value: str | None,
    ctx: str | None,
    expected: str | None,
) -> None:
    if env_value:
        env["NATS_USER"] = env_value
    write_context(config_home, "c", {"url": "nats://a:1", "user": ctx or ""})
    settings = resolve(config_home, env, context="c", user=flag)
    assert settings.user == expected


def test_password_follows_its_own_precedence(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "user": "alice", "password": "ctxpw"})
    assert resolve(config_home, env, context="c").password == "ctxpw"
    env["NATS_PASSWORD"] = "envpw"
    assert resolve(config_home, env, context="c").password == "envpw"
    settings = resolve(config_home, env, context="c", password="flagpw")
    assert (settings.user, settings.password) == ("alice", "flagpw")


def test_password_without_user_is_dropped(config_home: Path, env: dict[str, str]) -> None:
    settings = resolve(config_home, {**env, "NATS_PASSWORD": "pw"}, server="h:1")
    assert settings.password is None
    assert settings.connect_options() == {}


@pytest.mark.parametrize(
    ("flag", "env_value", "ctx", "expected"),
    [
        ("flagtok", "envtok", "ctxtok", "flagtok"),
        (None, "envtok", "ctxtok", "envtok"),
        (None, None, "ctxtok", "ctxtok"),
        (None, None, None, None),
    ],
)
def test_token_precedence(
    config_home: Path,
    env: dict[str, str],
    flag: str | None,
    env_value: str | None,
    ctx: str | None,
    expected: str | None,
) -> None:
    if env_value:
        env["NATS_TOKEN"] = env_value
    write_context(config_home, "c", {"url": "nats://a:1", "token": ctx or ""})
    settings = resolve(config_home, env, context="c", token=flag)
    assert settings.token == expected
    assert settings.describe_auth() == ("token" if expected else "none")


# --- creds / nkey precedence -------------------------------------------------------------------


def test_creds_precedence(config_home: Path, env: dict[str, str], tmp_path: Path) -> None:
    files = {}
    for name in ("flag", "env", "ctx"):
        files[name] = tmp_path / f"{name}.creds"
        files[name].write_text(creds_text(FAKE_JWT, new_seed()))
    write_context(config_home, "c", {"url": "nats://a:1", "creds": str(files["ctx"])})
    assert resolve(config_home, env, context="c").creds == files["ctx"]
    env["NATS_CREDS"] = str(files["env"])
    assert resolve(config_home, env, context="c").creds == files["env"]
    settings = resolve(config_home, env, context="c", creds=str(files["flag"]))
    assert settings.creds == files["flag"]
    assert settings.describe_auth() == f"creds {files['flag']}"


def test_nkey_precedence(config_home: Path, env: dict[str, str], tmp_path: Path) -> None:
    files = {}
    for name in ("flag", "env", "ctx"):
        files[name] = tmp_path / f"{name}.nk"
        files[name].write_text(new_seed())
    write_context(config_home, "c", {"url": "nats://a:1", "nkey": str(files["ctx"])})
    assert resolve(config_home, env, context="c").nkey == files["ctx"]
    env["NATS_NKEY"] = str(files["env"])
    assert resolve(config_home, env, context="c").nkey == files["env"]
    settings = resolve(config_home, env, context="c", nkey=str(files["flag"]))
    assert settings.nkey == files["flag"]
    assert settings.describe_auth() == "nkey"


def test_higher_layer_credential_kind_replaces_lower(
    config_home: Path, env: dict[str, str], creds_file: Path, nkey_file: Path
) -> None:
    write_context(
        config_home, "c", {"url": "nats://a:1", "user": "alice", "password": "pw", "token": "t"}
    )
    settings = resolve(config_home, env, context="c", creds=str(creds_file))
    assert (settings.creds, settings.user, settings.password) == (creds_file, None, None)
    assert settings.token == "t"  # a token is added on top
    settings = resolve(config_home, {**env, "NATS_NKEY": str(nkey_file)}, context="c")
    assert (settings.nkey, settings.user) == (nkey_file, None)
    settings = resolve(config_home, env, context="c", user="bob")
    assert (settings.user, settings.password) == ("bob", "pw")


def test_token_alone_in_a_higher_layer_replaces_lower_credentials(
    config_home: Path, env: dict[str, str]
) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "user": "alice", "password": "pw"})
    settings = resolve(config_home, {**env, "NATS_TOKEN": "envtok"}, context="c")
    assert (settings.token, settings.user, settings.password) == ("envtok", None, None)
    assert settings.connect_options() == {"token": "envtok"}


def test_flag_beats_env_for_the_credential_kind(
    config_home: Path, env: dict[str, str], creds_file: Path
) -> None:
    settings = resolve(
        config_home, {**env, "NATS_USER": "envuser"}, server="h:1", creds=str(creds_file)
    )
    assert (settings.creds, settings.user) == (creds_file, None)


def test_within_one_layer_user_beats_creds(
    config_home: Path, env: dict[str, str], creds_file: Path
) -> None:
    settings = resolve(config_home, env, server="h:1", user="u", creds=str(creds_file))
    assert (settings.user, settings.creds) == ("u", None)


# --- credential precedence inside a context ----------------------------------------------------


@pytest.fixture
def all_credentials(creds_file: Path, nkey_file: Path) -> dict[str, str]:
    return {
        "url": "nats://a:1",
        "user": "alice",
        "password": "pw",
        "creds": str(creds_file),
        "nkey": str(nkey_file),
        "user_jwt": FAKE_JWT,
        "user_seed": new_seed(),
        "token": "tok",
    }


@pytest.mark.parametrize(
    ("drop", "kind"),
    [
        ((), "user"),
        (("user",), "creds"),
        (("user", "creds"), "nkey"),
        (("user", "creds", "nkey"), "jwt"),
        (("user", "creds", "nkey", "user_seed"), "bearer"),
    ],
)
def test_credential_precedence_in_a_context(
    config_home: Path,
    env: dict[str, str],
    all_credentials: dict[str, str],
    drop: tuple[str, ...],
    kind: str,
) -> None:
    data = {k: v for k, v in all_credentials.items() if k not in drop}
    write_context(config_home, "c", data)
    settings = resolve(config_home, env, context="c")
    assert settings.token == "tok"
    chosen = {
        "user": settings.user,
        "creds": settings.creds,
        "nkey": settings.nkey,
        "jwt": settings.user_jwt if settings.user_seed else None,
        "bearer": settings.user_jwt if not settings.user_seed else None,
    }
    assert [k for k, v in chosen.items() if v is not None] == [kind]
    expected_description = {
        "user": "user alice + token",
        "creds": f"creds {all_credentials['creds']} + token",
        "nkey": "nkey + token",
        "jwt": "jwt + token",
        "bearer": "bearer jwt + token",
    }[kind]
    assert settings.describe_auth() == expected_description


def test_user_seed_without_jwt_is_an_error(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "user_seed": new_seed()})
    with pytest.raises(ConfigError, match=r"user_seed is set without user_jwt"):
        resolve(config_home, env, context="c")


def test_invalid_user_seed(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "user_jwt": "j", "user_seed": "SUNOPE"})
    with pytest.raises(ConfigError, match=r"^context 'c' user_seed: not a valid nkey seed$"):
        resolve(config_home, env, context="c")


def test_unused_bad_values_are_not_checked(config_home: Path, env: dict[str, str]) -> None:
    """As natscli: only the credential kind in use matters."""
    write_context(
        config_home,
        "c",
        {"url": "nats://a:1", "user": "u", "creds": "/no/such.creds", "user_seed": "bad"},
    )
    assert resolve(config_home, env, context="c").user == "u"
