"""Context values that point elsewhere (env://, data:, file://), path expansion, file checks."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from jstui.config import ConfigError, parse_creds_text, resolve_settings
from tests.config.helpers import FAKE_JWT, creds_text, data_uri, new_seed, resolve, write_context

# --- env:// data: file:// values ---------------------------------------------------------------


@pytest.mark.parametrize("field", ["password", "token", "user_jwt", "user_seed"])
def test_env_reference(config_home: Path, env: dict[str, str], field: str) -> None:
    seed = new_seed()
    value = seed if field == "user_seed" else "s3cret"
    data = {"url": "nats://a:1", "user": "u", "user_jwt": FAKE_JWT, field: "env://MY_SECRET"}
    if field in ("user_jwt", "user_seed"):
        data.pop("user")
    write_context(config_home, "c", data)
    settings = resolve(config_home, {**env, "MY_SECRET": value}, context="c")
    assert getattr(settings, field) == value


def test_env_reference_missing_variable(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "token": "env://NO_SUCH_VAR"})
    with pytest.raises(ConfigError) as info:
        resolve(config_home, env, context="c")
    assert str(info.value) == "context 'c' token: environment variable NO_SUCH_VAR is not set"


def test_env_reference_empty_variable(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "password": "env://EMPTY"})
    with pytest.raises(ConfigError, match=r"environment variable EMPTY is empty"):
        resolve(config_home, {**env, "EMPTY": ""}, context="c")


def test_env_reference_without_name(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "password": "env://"})
    with pytest.raises(ConfigError, match=r"env:// names no variable"):
        resolve(config_home, env, context="c")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (data_uri("p@ss:word\n"), "p@ss:word"),
        ("data:text/plain;base64," + base64.b64encode(b"abc").decode(), "abc"),
        ("data:,hello%20world", "hello world"),
        ("DATA:;base64,eHl6", "xyz"),
    ],
)
def test_data_values(config_home: Path, env: dict[str, str], value: str, expected: str) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "user": "u", "password": value})
    assert resolve(config_home, env, context="c").password == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("data:;base64,!!notbase64", "data: value is not valid base64$"),
        ("data:;base64,abc", "data: value is not valid base64$"),
        ("data:;base64", "data: value has no ',' separator$"),
        ("data:;base64," + base64.b64encode(b"\xff\xfe").decode(), "data: value is not UTF-8"),
    ],
)
def test_bad_data_values(config_home: Path, env: dict[str, str], value: str, message: str) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "token": value})
    with pytest.raises(ConfigError, match=f"^context 'c' token: {message}"):
        resolve(config_home, env, context="c")


def test_literal_values_are_kept_as_is(config_home: Path, env: dict[str, str]) -> None:
    write_context(
        config_home, "c", {"url": "nats://a:1", "user": "u", "password": "env:x https://y $HOME"}
    )
    assert resolve(config_home, env, context="c").password == "env:x https://y $HOME"


def test_file_reference_for_a_secret(config_home: Path, env: dict[str, str], home: Path) -> None:
    (home / "token.txt").write_text("filetok\r\n")
    write_context(config_home, "c", {"url": "nats://a:1", "token": "file://~/token.txt"})
    assert resolve(config_home, env, context="c").token == "filetok"
    write_context(config_home, "d", {"url": "nats://a:1", "token": "file:///no/such/token"})
    with pytest.raises(ConfigError, match=r"^context 'd' token: cannot read /no/such/token"):
        resolve(config_home, env, context="d")


def test_inline_creds_become_jwt_and_seed(config_home: Path, env: dict[str, str]) -> None:
    seed = new_seed()
    write_context(
        config_home, "c", {"url": "nats://a:1", "creds": data_uri(creds_text(FAKE_JWT, seed))}
    )
    settings = resolve(config_home, env, context="c")
    assert (settings.user_jwt, settings.user_seed, settings.creds) == (FAKE_JWT, seed, None)
    write_context(config_home, "e", {"url": "nats://a:1", "creds": "env://CREDS"})
    settings = resolve(config_home, {**env, "CREDS": creds_text(FAKE_JWT, seed)}, context="e")
    assert (settings.user_jwt, settings.user_seed) == (FAKE_JWT, seed)


def test_inline_creds_must_be_creds(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "creds": data_uri("just text")})
    with pytest.raises(ConfigError, match=r"^context 'c' creds is not a NATS credentials file"):
        resolve(config_home, env, context="c")


def test_inline_nkey_seed(config_home: Path, env: dict[str, str]) -> None:
    seed = new_seed()
    write_context(config_home, "c", {"url": "nats://a:1", "nkey": data_uri(seed + "\n")})
    settings = resolve(config_home, env, context="c")
    assert (settings.nkey_seed, settings.nkey) == (seed, None)
    assert settings.connect_options() == {"nkeys_seed_str": seed}
    assert settings.describe_auth() == "nkey"
    write_context(config_home, "bad", {"url": "nats://a:1", "nkey": "env://SEED"})
    with pytest.raises(ConfigError, match=r"^context 'bad' nkey: not a valid nkey seed$"):
        resolve(config_home, {**env, "SEED": "SUNOTASEED"}, context="bad")


# --- path fields: expansion, file://, existence ------------------------------------------------


def test_var_and_home_expansion_in_context_paths(
    config_home: Path, env: dict[str, str], home: Path, tls_files: tuple[Path, Path]
) -> None:
    (home / "keys").mkdir()
    creds = home / "keys" / "u.creds"
    creds.write_text(creds_text(FAKE_JWT, new_seed()))
    cert, key = tls_files
    env.update(KEYDIR=str(home / "keys"), TLSDIR=str(cert.parent))
    write_context(
        config_home,
        "c",
        {
            "url": "tls://a:1",
            "creds": "$KEYDIR/u.creds",
            "cert": "${TLSDIR}/cert.pem",
            "key": f"${{TLSDIR}}/{key.name}",
            "ca": "$TLSDIR/cert.pem",
        },
    )
    settings = resolve(config_home, env, context="c")
    assert settings.creds == creds
    assert (settings.tls_cert, settings.tls_key, settings.tls_ca) == (cert, key, cert)
    write_context(config_home, "tilde", {"url": "nats://a:1", "creds": "~/keys/u.creds"})
    assert resolve(config_home, env, context="tilde").creds == creds
    write_context(config_home, "file", {"url": "nats://a:1", "creds": "file://~/keys/u.creds"})
    assert resolve(config_home, env, context="file").creds == creds
    write_context(config_home, "abs", {"url": "nats://a:1", "creds": f"file://{creds}"})
    assert resolve(config_home, env, context="abs").creds == creds


def test_nkey_file_reference(config_home: Path, env: dict[str, str], home: Path) -> None:
    seed_file = home / "me.nk"
    seed_file.write_text(new_seed())
    write_context(config_home, "c", {"url": "nats://a:1", "nkey": "file://$HOME/me.nk"})
    assert resolve(config_home, env, context="c").nkey == seed_file


def test_unset_variable_expands_to_empty_as_in_go(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "creds": "$NOPE/u.creds"})
    with pytest.raises(
        ConfigError, match=r"^context 'c' creds: creds file /u.creds does not exist"
    ):
        resolve(config_home, env, context="c")


def test_tilde_in_flag_paths(config_home: Path, env: dict[str, str], home: Path) -> None:
    (home / "u.creds").write_text(creds_text(FAKE_JWT, new_seed()))
    assert resolve(config_home, env, server="h:1", creds="~/u.creds").creds == home / "u.creds"


@pytest.mark.parametrize(
    ("flags", "env_extra", "message"),
    [
        ({"creds": "/no/such.creds"}, {}, "^--creds: creds file /no/such.creds does not exist$"),
        ({}, {"NATS_CREDS": "/no/x.creds"}, "^NATS_CREDS: creds file /no/x.creds does not exist$"),
        ({"nkey": "/no/seed.nk"}, {}, "^--nkey: nkey seed file /no/seed.nk does not exist$"),
        ({"tls_ca": "/no/ca.pem"}, {}, "^--tls-ca: TLS CA file /no/ca.pem does not exist$"),
        ({}, {"NATS_CA": "/no/ca.pem"}, "^NATS_CA: TLS CA file /no/ca.pem does not exist$"),
        (
            {"tls_cert": "/no/c.pem", "tls_key": "/no/k.pem"},
            {},
            "^--tls-cert: TLS certificate /no/c.pem does not exist$",
        ),
    ],
)
def test_missing_files(
    config_home: Path,
    env: dict[str, str],
    flags: dict[str, Any],
    env_extra: dict[str, str],
    message: str,
) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_settings(
            {"server": "h:1", **flags}, environ={**env, **env_extra}, config_home=config_home
        )


def test_missing_files_from_a_context(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "nkey": "/no/seed.nk"})
    with pytest.raises(ConfigError, match=r"^context 'c' nkey: nkey seed file /no/seed.nk"):
        resolve(config_home, env, context="c")
    write_context(config_home, "d", {"url": "nats://a:1", "ca": "~/ca.pem"})
    with pytest.raises(ConfigError, match=r"^context 'd' ca: TLS CA file .*/home/ca.pem does not"):
        resolve(config_home, env, context="d")


def test_directory_is_not_a_creds_file(
    config_home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"is not a file$"):
        resolve(config_home, env, server="h:1", creds=str(tmp_path))


def test_creds_file_without_jwt_is_refused(
    config_home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    """nats-py would loop forever reading such a file; jstui refuses it up front."""
    bogus = tmp_path / "bogus.creds"
    bogus.write_text("not a creds file\n")
    with pytest.raises(ConfigError, match=r"bogus.creds is not a NATS credentials file"):
        resolve(config_home, env, server="h:1", creds=str(bogus))
    bad_seed = tmp_path / "badseed.creds"
    bad_seed.write_text(creds_text(FAKE_JWT, "SUNOTASEED"))
    with pytest.raises(ConfigError, match=r"hold an invalid nkey seed"):
        resolve(config_home, env, server="h:1", creds=str(bad_seed))


def test_nkey_file_must_hold_a_seed(config_home: Path, env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.nk"
    bad.write_text("UABCDEF\n")
    with pytest.raises(ConfigError, match=r"^--nkey: .*bad.nk does not hold a valid nkey seed$"):
        resolve(config_home, env, server="h:1", nkey=str(bad))


def test_parse_creds_text() -> None:
    seed = new_seed()
    assert parse_creds_text(creds_text(FAKE_JWT, seed)) == (FAKE_JWT, seed)
    assert parse_creds_text("-----BEGIN NATS USER JWT-----\n------END NATS USER JWT------") is None
    assert parse_creds_text("") is None
