"""natscli contexts: which one is selected, reading its file, and the features jstui refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jstui.config import ConfigError, default_config_home, resolve_settings
from tests.config.helpers import resolve, select, write_context

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
