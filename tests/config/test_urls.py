"""Server URLs: parsing and checking, and which layer's URL wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from jstui.config import DEFAULT_CONTEXT_URL, ConfigError, parse_servers
from tests.config.helpers import resolve, select, write_context

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
