"""Settings: the defaults, plain flags, and what a resolved `Settings` gives nats-py.

Every test uses `tmp_path` as the config home and an explicit environ dict, never the real ones.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client, RawCredentials

from jstui.config import ConfigError, Settings, resolve_settings
from jstui.nats.errors import JstuiError
from tests.config.helpers import FAKE_JWT, new_seed, resolve, write_context

# --- defaults and the shape of Settings --------------------------------------------------------


def test_nothing_given_means_embedded(config_home: Path, env: dict[str, str]) -> None:
    settings = resolve(config_home, env)
    assert settings == Settings()
    assert settings.embedded
    assert settings.context is None
    assert settings.connect_options() == {}
    assert settings.jetstream_options() == {}
    assert settings.describe_auth() == "none"


def test_missing_flag_keys_and_none_values_are_the_same(
    config_home: Path, env: dict[str, str]
) -> None:
    every_key_none = dict.fromkeys(
        [
            "server", "user", "password", "token", "creds", "nkey", "tls_cert", "tls_key",
            "tls_ca", "tls_first", "context", "read_only", "theme", "port", "store", "monitor",
            "feed_buffer", "feeds", "responders", "workers",
        ]
    )  # fmt: skip
    assert resolve_settings(every_key_none, environ=env, config_home=config_home) == Settings()


def test_config_error_is_a_jstui_error() -> None:
    assert issubclass(ConfigError, JstuiError)


def test_settings_is_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.user = "x"  # type: ignore[misc]


def test_repr_hides_secrets() -> None:
    settings = Settings(
        servers=("nats://h:4222",),
        user="alice",
        password="hunter2",
        token="tok-secret",
        user_jwt="jwt-secret",
        user_seed="SUSEED",
        nkey_seed="SUSEED2",
    )
    text = repr(settings)
    assert "alice" in text
    for secret in ("hunter2", "tok-secret", "jwt-secret", "SUSEED"):
        assert secret not in text


def test_plain_flags(config_home: Path, env: dict[str, str], home: Path) -> None:
    settings = resolve(
        config_home,
        env,
        read_only=True,
        theme="nord",
        port=4333,
        store="~/js",
        monitor="127.0.0.1:8222",
        feed_buffer=500,
        feeds=("orders.>",),
        responders=("svc.echo",),
        workers=("jobs:3",),
    )
    assert settings.read_only is True
    assert settings.theme == "nord"
    assert settings.port == 4333
    assert settings.store_dir == home / "js"
    assert settings.monitor_url == "http://127.0.0.1:8222"
    assert settings.feed_buffer == 500
    assert settings.feeds == ("orders.>",)
    assert settings.responders == ("svc.echo",)
    assert settings.workers == ("jobs:3",)
    assert settings.embedded


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"port": 70000}, "--port: 70000 is out of range"),
        ({"port": -1}, "--port: -1 is out of range"),
        ({"port": "x"}, "--port: 'x' is not a whole number"),
        ({"feed_buffer": 0}, "--feed-buffer: 0 is out of range"),
        ({"monitor": "ftp://h:1"}, "--monitor: invalid URL 'ftp://h:1'"),
        ({"monitor": "http://:8222"}, "--monitor: invalid URL"),
    ],
)
def test_bad_plain_flags(
    config_home: Path, env: dict[str, str], flags: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_settings(flags, environ=env, config_home=config_home)


def test_monitor_url_keeps_https(config_home: Path, env: dict[str, str]) -> None:
    settings = resolve(config_home, env, monitor="https://mon.example.com:8222/")
    assert settings.monitor_url == "https://mon.example.com:8222"


# --- connect_options / jetstream_options / describe_auth ---------------------------------------


REMOTE = ("nats://h:4222",)


def test_connect_options_user_password() -> None:
    assert Settings(servers=REMOTE, user="alice", password="pw").connect_options() == {
        "user": "alice",
        "password": "pw",
    }
    # nats-py sends the user only with a non-None password
    assert Settings(servers=REMOTE, user="alice").connect_options() == {
        "user": "alice",
        "password": "",
    }


def test_connect_options_token_creds_nkey(tmp_path: Path) -> None:
    assert Settings(servers=REMOTE, token="t").connect_options() == {"token": "t"}
    creds = tmp_path / "u.creds"
    assert Settings(servers=REMOTE, creds=creds).connect_options() == {
        "user_credentials": str(creds)
    }
    assert Settings(servers=REMOTE, nkey=tmp_path / "s.nk", token="t").connect_options() == {
        "nkeys_seed": str(tmp_path / "s.nk"),
        "token": "t",
    }


def test_connect_options_jwt_and_seed_are_raw_credentials_nats_py_can_read() -> None:
    seed = new_seed()
    options = Settings(servers=REMOTE, user_jwt=FAKE_JWT, user_seed=seed).connect_options()
    raw = options["user_credentials"]
    assert isinstance(raw, RawCredentials)
    client = Client()
    assert bytes(client._read_creds_user_jwt(raw)) == FAKE_JWT.encode()
    assert bytes(client._read_creds_user_nkey(raw)) == seed.encode()


def test_connect_options_bearer_jwt() -> None:
    options = Settings(servers=REMOTE, user_jwt=FAKE_JWT).connect_options()
    assert set(options) == {"user_jwt_cb", "signature_cb"}
    assert options["user_jwt_cb"]() == FAKE_JWT.encode()
    assert options["signature_cb"]("nonce") == b""


def test_connect_options_tls_triggers(tmp_path: Path) -> None:
    assert "tls" not in Settings(servers=REMOTE).connect_options()
    tls_url = Settings(servers=("tls://h:4222",)).connect_options()
    assert isinstance(tls_url["tls"], ssl.SSLContext)
    assert "tls_handshake_first" not in tls_url
    first = Settings(servers=REMOTE, tls_first=True).connect_options()
    assert isinstance(first["tls"], ssl.SSLContext)
    assert first["tls_handshake_first"] is True
    assert "tls" in Settings(servers=("wss://h/nats",)).connect_options()


def test_connect_options_inbox_prefix(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "inbox_prefix": "_INBOX_alice"})
    settings = resolve(config_home, env, context="c")
    assert settings.inbox_prefix == "_INBOX_alice"
    assert settings.connect_options() == {"inbox_prefix": "_INBOX_alice"}


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        ({"user": "u", "password": "p"}, "--user, --password"),
        ({"token": "t"}, "--token"),
        ({"tls_first": True}, "--tls-first"),
        ({"creds": "/no/such.creds"}, "--creds"),
    ],
)
def test_auth_or_tls_flags_need_a_server(
    config_home: Path, env: dict[str, str], flags: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(flags, environ=env, config_home=config_home)
    assert str(info.value) == (
        f"{named} given without a server: name one with --server "
        "(the embedded server has no auth or TLS)"
    )


def test_auth_and_tls_variables_are_ignored_for_the_embedded_server(
    config_home: Path, env: dict[str, str]
) -> None:
    env.update(NATS_USER="u", NATS_PASSWORD="p", NATS_TOKEN="t", NATS_CREDS="/no/such.creds")
    settings = resolve(config_home, env, tls_first=False)
    assert settings == Settings()
    assert settings.embedded


def test_embedded_gets_no_auth_and_no_tls() -> None:
    settings = Settings(user="u", password="p", token="t", tls_first=True, inbox_prefix="_IN")
    assert settings.embedded
    assert settings.connect_options() == {"inbox_prefix": "_IN"}
    assert settings.describe_auth() == "none"


def test_jetstream_options(config_home: Path, env: dict[str, str]) -> None:
    write_context(
        config_home,
        "c",
        {"url": "nats://a:1", "jetstream_domain": "hub", "jetstream_api_prefix": "$JS.x.API"},
    )
    settings = resolve(config_home, env, context="c")
    assert settings.jetstream_options() == {"domain": "hub", "prefix": "$JS.x.API"}
    assert Settings(servers=REMOTE, jetstream_domain="leaf").jetstream_options() == {
        "domain": "leaf"
    }
    assert Settings(jetstream_api_prefix="p").jetstream_options() == {"prefix": "p"}


def test_describe_auth_never_shows_secrets() -> None:
    assert Settings(servers=REMOTE, user="alice", password="pw").describe_auth() == "user alice"
    assert Settings(servers=REMOTE, token="sekrit").describe_auth() == "token"
    assert Settings(servers=REMOTE, creds=Path("/x.creds")).describe_auth() == "creds /x.creds"
    assert Settings(servers=REMOTE, nkey=Path("/x.nk")).describe_auth() == "nkey"
    assert Settings(servers=REMOTE, user_jwt="j", user_seed="s").describe_auth() == "jwt"
    assert Settings(servers=REMOTE).describe_auth() == "none"
