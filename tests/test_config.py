"""Settings: flag > NATS_* environment > natscli context > default, and what they connect with.

Every test uses `tmp_path` as the config home and an explicit environ dict, never the real ones.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import nats
import nkeys
import pytest
from nats.aio.client import Client, RawCredentials

from jstui.config import (
    DEFAULT_CONTEXT_URL,
    ConfigError,
    Settings,
    default_config_home,
    parse_creds_text,
    parse_servers,
    resolve_settings,
)
from jstui.nats.embedded import find_nats_server, free_port
from jstui.nats.errors import JstuiError

FAKE_JWT = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJVIn0.c2ln"


# --- helpers -----------------------------------------------------------------------------------


def new_seed(prefix: int = nkeys.PREFIX_BYTE_USER) -> str:
    return nkeys.encode_seed(os.urandom(32), prefix).decode()


def public_key(seed: str) -> str:
    return nkeys.from_seed(bytearray(seed.encode())).public_key.decode()


def creds_text(jwt: str, seed: str) -> str:
    return (
        "-----BEGIN NATS USER JWT-----\n"
        f"{jwt}\n"
        "------END NATS USER JWT------\n\n"
        "************************* IMPORTANT *************************\n"
        "NKEY Seed printed below can be used to sign and prove identity.\n\n"
        "-----BEGIN USER NKEY SEED-----\n"
        f"{seed}\n"
        "------END USER NKEY SEED------\n"
    )


def data_uri(text: str) -> str:
    return "data:;base64," + base64.b64encode(text.encode()).decode()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    """A minimal environment: only HOME, pointing into tmp_path."""
    return {"HOME": str(home)}


@pytest.fixture
def config_home(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.mkdir()
    return path


def write_context(config_home: Path, name: str, data: Mapping[str, Any] | str) -> Path:
    folder = config_home / "nats" / "context"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def select(config_home: Path, name: str) -> None:
    (config_home / "nats").mkdir(parents=True, exist_ok=True)
    (config_home / "nats" / "context.txt").write_text(name)


@pytest.fixture
def creds_file(tmp_path: Path) -> Path:
    path = tmp_path / "user.creds"
    path.write_text(creds_text(FAKE_JWT, new_seed()))
    return path


@pytest.fixture
def nkey_file(tmp_path: Path) -> Path:
    path = tmp_path / "user.nk"
    path.write_text(new_seed() + "\n")
    return path


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate (for localhost and 127.0.0.1) and its key, made with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def resolve(config_home: Path, env: Mapping[str, str], **flags: Any) -> Settings:
    return resolve_settings(flags, environ=env, config_home=config_home)


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


# --- server URLs -------------------------------------------------------------------------------


def test_parse_servers_trims_drops_empty_and_adds_scheme() -> None:
    assert parse_servers(" a:4222 , b,, tls://c:4443 ,") == (
        "nats://a:4222",
        "nats://b",
        "tls://c:4443",
    )


@pytest.mark.parametrize(
    "url",
    [
        "localhost",
        "127.0.0.1:4222",
        "nats://user:pass@host.example.com:4222",
        "[::1]:4222",
        "nats://[fe80::1]:4222",
        "my_host-1.internal",
    ],
)
def test_parse_servers_accepts(url: str) -> None:
    (parsed,) = parse_servers(url)
    assert "://" in parsed


def test_parse_servers_accepts_websocket_with_path() -> None:
    assert parse_servers("wss://h.example.com/nats, ws://other:80") == (
        "wss://h.example.com/nats",
        "ws://other:80",
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://h:4222", "scheme must be one of"),
        ("host name", "expected host"),
        ("h:notaport", "invalid server URL 'h:notaport'"),
        ("h:99999", "invalid server URL 'h:99999'"),
        ("h:0", "port must be 1-65535"),
        ("nats://", "no host"),
        ("nats://h:4222/path", "expected host"),
        ("nats://h:4222?x=1", "expected host"),
        ("h:", "empty port"),
        ("[zz::1]:4222", "invalid server URL"),
        (" , ,", "no server URL"),
        ("nats://a:4222,ws://b:80", "cannot be mixed"),
    ],
)
def test_parse_servers_rejects(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_servers(value, "--server")


def test_server_error_names_its_source(config_home: Path, env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"^NATS_URL: invalid server URL 'bad host'"):
        resolve(config_home, {**env, "NATS_URL": "bad host"})
    write_context(config_home, "c", {"url": "nats://x:1/p"})
    with pytest.raises(ConfigError, match=r"^context 'c' url: invalid server URL"):
        resolve(config_home, env, context="c")


def test_server_flag_may_be_a_sequence(config_home: Path, env: dict[str, str]) -> None:
    settings = resolve(config_home, env, server=("a:1", "b:2"))
    assert settings.servers == ("nats://a:1", "nats://b:2")


# --- URL precedence ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "env_url", "context_url", "expected"),
    [
        ("flag:1", "env:2", "nats://ctx:3", ("nats://flag:1",)),
        (None, "env:2", "nats://ctx:3", ("nats://env:2",)),
        (None, None, "nats://ctx:3", ("nats://ctx:3",)),
        (None, None, None, ()),
    ],
)
def test_url_precedence(
    config_home: Path,
    env: dict[str, str],
    flag: str | None,
    env_url: str | None,
    context_url: str | None,
    expected: tuple[str, ...],
) -> None:
    if env_url:
        env["NATS_URL"] = env_url
    if context_url:
        write_context(config_home, "c", {"url": context_url})
        select(config_home, "c")
    settings = resolve(config_home, env, server=flag)
    assert settings.servers == expected
    assert settings.embedded == (expected == ())


def test_context_without_url_uses_natscli_default(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"description": "no url", "url": ""})
    settings = resolve(config_home, env, context="c")
    assert settings.servers == (DEFAULT_CONTEXT_URL,)
    assert not settings.embedded


def test_empty_values_count_as_not_given(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"url": "nats://ctx:3", "user": "ctxuser"})
    settings = resolve(
        config_home, {**env, "NATS_URL": "", "NATS_USER": ""}, context="c", server="", user=""
    )
    assert settings.servers == ("nats://ctx:3",)
    assert settings.user == "ctxuser"


# --- context selection -------------------------------------------------------------------------


@pytest.fixture
def three_contexts(config_home: Path) -> Path:
    for name in ("flagctx", "envctx", "txtctx"):
        write_context(config_home, name, {"url": f"nats://{name}:4222"})
    select(config_home, "  txtctx \n")
    return config_home


def test_context_flag_wins(three_contexts: Path, env: dict[str, str]) -> None:
    settings = resolve(three_contexts, {**env, "NATS_CONTEXT": "envctx"}, context="flagctx")
    assert settings.context == "flagctx"
    assert settings.servers == ("nats://flagctx:4222",)


def test_nats_context_beats_context_txt(three_contexts: Path, env: dict[str, str]) -> None:
    settings = resolve(three_contexts, {**env, "NATS_CONTEXT": "envctx"})
    assert settings.context == "envctx"


def test_context_txt_is_trimmed(three_contexts: Path, env: dict[str, str]) -> None:
    settings = resolve(three_contexts, env)
    assert settings.context == "txtctx"
    assert settings.servers == ("nats://txtctx:4222",)


def test_empty_context_txt_means_none(config_home: Path, env: dict[str, str]) -> None:
    select(config_home, " \n")
    assert resolve(config_home, env).context is None


def test_default_config_home_from_environment(tmp_path: Path, home: Path) -> None:
    xdg = tmp_path / "xdg"
    assert default_config_home({"XDG_CONFIG_HOME": str(xdg), "HOME": str(home)}) == xdg
    assert default_config_home({"HOME": str(home)}) == home / ".config"
    write_context(xdg, "x", {"url": "nats://xdg:1"})
    settings = resolve_settings(
        {"context": "x"}, environ={"XDG_CONFIG_HOME": str(xdg), "HOME": str(home)}
    )
    assert settings.servers == ("nats://xdg:1",)
    write_context(home / ".config", "h", {"url": "nats://home:1"})
    settings = resolve_settings({"context": "h"}, environ={"HOME": str(home)})
    assert settings.servers == ("nats://home:1",)


@pytest.mark.parametrize("name", ["", "..", "a..b", "a/b", "../etc/passwd", "a\\b"])
def test_bad_context_name_from_flag(config_home: Path, env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError, match=r"invalid context name .* \(--context\)"):
        resolve(config_home, env, context=name)


def test_bad_context_name_from_env_and_file(config_home: Path, env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"invalid context name '\.\./x' \(NATS_CONTEXT\)"):
        resolve(config_home, {**env, "NATS_CONTEXT": "../x"})
    select(config_home, "a/b")
    with pytest.raises(ConfigError, match=r"invalid context name 'a/b' \(.*context\.txt\)"):
        resolve(config_home, env)


def test_missing_context_file(config_home: Path, env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(config_home, env, context="nope")
    message = str(info.value)
    assert message.startswith("unknown context 'nope' (selected by --context): ")
    assert str(config_home / "nats" / "context" / "nope.json") in message
    assert "\n" not in message


def test_missing_context_selected_by_context_txt(config_home: Path, env: dict[str, str]) -> None:
    select(config_home, "gone")
    with pytest.raises(ConfigError, match=r"unknown context 'gone' \(selected by .*context\.txt\)"):
        resolve(config_home, env)


def test_invalid_json(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "broken", '{"url": "nats://a:1",\n  "user": }')
    with pytest.raises(
        ConfigError, match=r"^context 'broken': invalid JSON in .*broken\.json \(line 2"
    ):
        resolve(config_home, env, context="broken")


def test_json_that_is_not_an_object(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "list", "[1, 2]")
    with pytest.raises(ConfigError, match=r"does not hold a JSON object"):
        resolve(config_home, env, context="list")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"user": 5}, "field 'user' must be a string"),
        ({"url": ["a"]}, "field 'url' must be a string"),
        ({"tls_first": "yes"}, "field 'tls_first' must be true or false"),
    ],
)
def test_wrongly_typed_fields(
    config_home: Path, env: dict[str, str], data: dict[str, Any], message: str
) -> None:
    write_context(config_home, "c", data)
    with pytest.raises(ConfigError, match=message):
        resolve(config_home, env, context="c")


def test_unknown_and_ignored_fields_are_fine(config_home: Path, env: dict[str, str]) -> None:
    write_context(
        config_home,
        "c",
        {
            "url": "nats://a:1",
            "description": "demo",
            "color_scheme": "blue",
            "name": "ignored",
            "jetstream_event_prefix": "x",
            "windows_cert_store": "",
            "socks_proxy": "",
            "nsc": "",
            "something_new": {"nested": True},
            "user": None,
        },
    )
    settings = resolve(config_home, env, context="c")
    assert settings.servers == ("nats://a:1",)
    assert settings.user is None


# --- refused context features ------------------------------------------------------------------


def test_socks_proxy_is_refused(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "x", {"url": "nats://a:1", "socks_proxy": "socks5://p:1080"})
    with pytest.raises(ConfigError) as info:
        resolve(config_home, env, context="x")
    assert str(info.value) == (
        "context 'x': socks_proxy is not supported by jstui (nats-py has no SOCKS support)"
    )


def test_nsc_lookup_is_refused(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "x", {"nsc": "nsc://op/acc/user"})
    with pytest.raises(ConfigError, match=r"^context 'x': nsc lookups are not supported"):
        resolve(config_home, env, context="x")


@pytest.mark.parametrize("field", ["password", "token", "user_jwt", "user_seed", "creds", "nkey"])
@pytest.mark.parametrize(
    ("value", "what"), [("op://vault/item/field", "op://"), ("nsc://op/acc/user", "nsc://")]
)
def test_op_and_nsc_references_are_refused(
    config_home: Path, env: dict[str, str], field: str, value: str, what: str
) -> None:
    write_context(config_home, "x", {"url": "nats://a:1", "user": "u", field: value})
    with pytest.raises(ConfigError, match=f"^context 'x' {field}: {what}.*not supported by jstui"):
        resolve(config_home, env, context="x")


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


# --- TLS settings ------------------------------------------------------------------------------


def test_cert_without_key_from_flags(
    config_home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    pem = tmp_path / "x.pem"
    pem.write_text("x")
    with pytest.raises(
        ConfigError, match=r"^--tls-cert needs a TLS key too \(--tls-key or NATS_KEY\)$"
    ):
        resolve(config_home, env, server="h:1", tls_cert=str(pem))
    with pytest.raises(ConfigError, match=r"^--tls-key needs a TLS cert too"):
        resolve(config_home, env, server="h:1", tls_key=str(pem))
    with pytest.raises(ConfigError, match=r"^NATS_CERT needs a TLS key too"):
        resolve(config_home, {**env, "NATS_CERT": str(pem)}, server="h:1")


def test_cert_and_key_from_flag_and_env(
    config_home: Path, env: dict[str, str], tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    settings = resolve(config_home, {**env, "NATS_KEY": str(key)}, server="h:1", tls_cert=str(cert))
    assert (settings.tls_cert, settings.tls_key) == (cert, key)


def test_context_cert_alone_is_ignored_and_ca_alone_sets_roots(
    config_home: Path, env: dict[str, str], tls_files: tuple[Path, Path]
) -> None:
    cert, _key = tls_files
    write_context(config_home, "c", {"url": "nats://a:1", "cert": str(cert), "ca": str(cert)})
    settings = resolve(config_home, env, context="c")
    assert (settings.tls_cert, settings.tls_key, settings.tls_ca) == (None, None, cert)
    options = settings.connect_options()
    assert isinstance(options["tls"], ssl.SSLContext)


def test_flag_tls_pair_overrides_context_pair(
    config_home: Path, env: dict[str, str], tls_files: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = tls_files
    other_cert, other_key = tmp_path / "o.pem", tmp_path / "ok.pem"
    shutil.copy(cert, other_cert)
    shutil.copy(key, other_key)
    write_context(config_home, "c", {"url": "nats://a:1", "cert": str(cert), "key": str(key)})
    settings = resolve(
        config_home, env, context="c", tls_cert=str(other_cert), tls_key=str(other_key)
    )
    assert (settings.tls_cert, settings.tls_key) == (other_cert, other_key)


def test_tls_first_precedence(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "tls_first": True})
    assert resolve(config_home, env, context="c").tls_first is True
    assert resolve(config_home, env, context="c", tls_first=False).tls_first is False
    assert resolve(config_home, env, server="h:1", tls_first=True).tls_first is True


def test_bad_ca_file_fails_at_resolve_and_in_connect_options(
    config_home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match=f"^TLS CA file {garbage} cannot be loaded: "):
        resolve(config_home, env, server="h:1", tls_ca=str(garbage))
    settings = Settings(servers=("nats://h:1",), tls_ca=garbage)
    with pytest.raises(ConfigError, match=r"cannot be loaded"):
        settings.connect_options()


def test_bad_cert_pair_fails(
    config_home: Path, env: dict[str, str], tls_files: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, _key = tls_files
    wrong_key = tmp_path / "wrong.pem"
    wrong_key.write_text("not a key")
    with pytest.raises(ConfigError, match=f"^TLS certificate {cert} / key {wrong_key} cannot be"):
        resolve(config_home, env, server="h:1", tls_cert=str(cert), tls_key=str(wrong_key))


def test_ssl_context_loads_ca_and_client_cert(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    settings = Settings(servers=("tls://h:1",), tls_ca=cert, tls_cert=cert, tls_key=key)
    context = settings.connect_options()["tls"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.cert_store_stats()["x509_ca"] == 1


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


# --- against a real nats-server ----------------------------------------------------------------


@contextlib.contextmanager
def running_server(cwd: Path, *args: str, config: str | None = None) -> Iterator[str]:
    """A nats-server on a free loopback port with the given options; yields its URL."""
    port = free_port()
    command = [str(find_nats_server()), "-a", "127.0.0.1", "-p", str(port), *args]
    if config is not None:
        (cwd / "server.conf").write_text(config)
        command += ["-c", str(cwd / "server.conf")]
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                pytest.fail(f"nats-server exited at start-up: {command}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("nats-server did not start listening")
                time.sleep(0.02)
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


async def _quiet(_error: Exception) -> None:
    return None


async def connect(settings: Settings) -> Client:
    return await asyncio.wait_for(
        nats.connect(
            servers=list(settings.servers),
            allow_reconnect=False,
            connect_timeout=2,
            error_cb=_quiet,
            **settings.connect_options(),
        ),
        timeout=10,
    )


async def assert_round_trip(settings: Settings) -> None:
    nc = await connect(settings)
    try:
        sub = await nc.subscribe("cfg.test")
        await nc.publish("cfg.test", b"hi")
        msg = await sub.next_msg(timeout=2)
        assert msg.data == b"hi"
    finally:
        await nc.close()


async def test_user_password_connects(
    tmp_path: Path, config_home: Path, env: dict[str, str]
) -> None:
    with running_server(tmp_path, "--user", "alice", "--pass", "secret") as url:
        settings = resolve(config_home, env, server=url, user="alice", password="secret")
        await assert_round_trip(settings)
        wrong = resolve(config_home, env, server=url, user="alice", password="wrong")
        with pytest.raises(Exception, match=r"Authorization Violation"):
            await connect(wrong)


async def test_user_password_from_a_context_connects(
    tmp_path: Path, config_home: Path, env: dict[str, str]
) -> None:
    with running_server(tmp_path, "--user", "alice", "--pass", "secret") as url:
        write_context(config_home, "c", {"url": url, "user": "alice", "password": "env://ALICE_PW"})
        select(config_home, "c")
        await assert_round_trip(resolve(config_home, {**env, "ALICE_PW": "secret"}))


async def test_token_connects(tmp_path: Path, config_home: Path, env: dict[str, str]) -> None:
    with running_server(tmp_path, "--auth", "s3cr3t-token") as url:
        await assert_round_trip(resolve(config_home, env, server=url, token="s3cr3t-token"))
        with pytest.raises(Exception, match=r"Authorization Violation"):
            await connect(resolve(config_home, env, server=url, token="nope"))


async def test_nkey_connects(tmp_path: Path, config_home: Path, env: dict[str, str]) -> None:
    seed = new_seed()
    seed_file = tmp_path / "user.nk"
    seed_file.write_text(seed + "\n")
    config = f'authorization {{ users = [ {{ nkey: "{public_key(seed)}" }} ] }}\n'
    with running_server(tmp_path, config=config) as url:
        await assert_round_trip(resolve(config_home, env, server=url, nkey=str(seed_file)))
        write_context(config_home, "inline", {"url": url, "nkey": data_uri(seed)})
        await assert_round_trip(resolve(config_home, env, context="inline"))


# JWT (decentralised) auth: an operator, an account and users, signed here with nkeys.


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: dict[str, Any], issuer_seed: str) -> str:
    claims = {**claims, "iat": int(time.time()), "iss": public_key(issuer_seed), "jti": ""}
    digest = hashlib.sha256(json.dumps(claims, sort_keys=True).encode()).digest()
    claims["jti"] = base64.b32encode(digest).decode().rstrip("=")
    header = _b64url(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body = _b64url(json.dumps(claims).encode())
    key_pair = nkeys.from_seed(bytearray(issuer_seed.encode()))
    return f"{header}.{body}.{_b64url(key_pair.sign(f'{header}.{body}'.encode()))}"


def _user_claims(seed: str, *, bearer: bool = False) -> dict[str, Any]:
    nats_claims: dict[str, Any] = {"pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1}
    if bearer:
        nats_claims["bearer_token"] = True
    return {
        "sub": public_key(seed),
        "name": "u",
        "nats": {**nats_claims, "type": "user", "version": 2},
    }


@pytest.fixture
def operator_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A server trusting a fresh operator; yields (url, account seed)."""
    operator = new_seed(nkeys.PREFIX_BYTE_OPERATOR)
    account = new_seed(nkeys.PREFIX_BYTE_ACCOUNT)
    operator_jwt = _jwt(
        {"sub": public_key(operator), "name": "op", "nats": {"type": "operator", "version": 2}},
        operator,
    )
    limits = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
              "wildcards": True, "conn": -1, "leaf": -1}  # fmt: skip
    account_jwt = _jwt(
        {
            "sub": public_key(account),
            "name": "acc",
            "nats": {"limits": limits, "type": "account", "version": 2},
        },
        operator,
    )
    (tmp_path / "operator.jwt").write_text(operator_jwt)
    config = (
        f'operator: "{tmp_path / "operator.jwt"}"\n'
        "resolver: MEMORY\n"
        f'resolver_preload: {{ {public_key(account)}: "{account_jwt}" }}\n'
    )
    with running_server(tmp_path, config=config) as url:
        yield url, account


async def test_user_jwt_and_seed_from_a_context_connect(
    operator_server: tuple[str, str], config_home: Path, env: dict[str, str]
) -> None:
    url, account = operator_server
    seed = new_seed()
    user_jwt = _jwt(_user_claims(seed), account)
    write_context(
        config_home, "jwt", {"url": url, "user_jwt": data_uri(user_jwt), "user_seed": "env://SEED"}
    )
    settings = resolve(config_home, {**env, "SEED": seed}, context="jwt")
    assert settings.describe_auth() == "jwt"
    await assert_round_trip(settings)
    # the signature is really checked: another user's seed is refused
    wrong = resolve(config_home, {**env, "SEED": new_seed()}, context="jwt")
    with pytest.raises(Exception, match=r"Authorization Violation"):
        await connect(wrong)


async def test_creds_file_connects(
    operator_server: tuple[str, str], config_home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    url, account = operator_server
    seed = new_seed()
    creds = tmp_path / "user.creds"
    creds.write_text(creds_text(_jwt(_user_claims(seed), account), seed))
    await assert_round_trip(
        resolve(config_home, {**env, "NATS_URL": url, "NATS_CREDS": str(creds)})
    )


async def test_bearer_jwt_connects(
    operator_server: tuple[str, str], config_home: Path, env: dict[str, str]
) -> None:
    url, account = operator_server
    bearer = _jwt(_user_claims(new_seed(), bearer=True), account)
    write_context(config_home, "bearer", {"url": url, "user_jwt": bearer})
    settings = resolve(config_home, env, context="bearer")
    assert settings.describe_auth() == "bearer jwt"
    await assert_round_trip(settings)
    # a JWT that is not a bearer token needs its seed
    not_bearer = _jwt(_user_claims(new_seed()), account)
    write_context(config_home, "plain", {"url": url, "user_jwt": not_bearer})
    with pytest.raises(Exception, match=r"Authorization Violation"):
        await connect(resolve(config_home, env, context="plain"))


async def test_tls_with_client_cert_and_handshake_first_connects(
    tmp_path: Path, config_home: Path, env: dict[str, str], tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    config = (
        f'tls {{ cert_file: "{cert}", key_file: "{key}", ca_file: "{cert}", '
        "verify: true, handshake_first: true }\n"
    )
    with running_server(tmp_path, config=config) as url:
        port = url.rsplit(":", 1)[1]
        write_context(
            config_home,
            "tls",
            {
                "url": f"tls://127.0.0.1:{port}",
                "cert": str(cert),
                "key": str(key),
                "ca": str(cert),
                "tls_first": True,
            },
        )
        settings = resolve(config_home, env, context="tls")
        await assert_round_trip(settings)
