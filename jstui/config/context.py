"""natscli contexts: which one is selected, and its file read into a `Layer`.

`select_context` picks the name from `--context`, else `NATS_CONTEXT`, else
`<config home>/nats/context.txt`; `load_context` reads `<config home>/nats/context/<NAME>.json`
with natscli's field names and rules (see `nats-io/jsm.go` `natscontext`): secrets through
`secrets.resolve_secret`, creds/nkey/TLS values through `secrets.resolve_file_ref`, and the
features nats-py lacks (SOCKS proxy, nsc lookups) refused with a message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jstui.config.layers import Layer
from jstui.config.secrets import home_dir, resolve_file_ref, resolve_secret
from jstui.config.settings import ConfigError, error_reason

# natscli's default when a context names no URL.
DEFAULT_CONTEXT_URL = "nats://localhost:4222"


@dataclass
class Context:
    """A loaded context: its connection `Layer` and the settings only a context can give."""

    name: str
    layer: Layer
    inbox_prefix: str | None = None
    jetstream_domain: str | None = None
    jetstream_api_prefix: str | None = None


def default_config_home(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME`, else `~/.config` (natscli uses this on every platform)."""
    environ = os.environ if environ is None else environ
    xdg = environ.get("XDG_CONFIG_HOME")
    return Path(xdg) if xdg else home_dir(environ) / ".config"


def _check_context_name(name: str, source: str) -> None:
    if not name or ".." in name or "/" in name or "\\" in name:
        raise ConfigError(
            f"invalid context name {name!r} ({source}): names cannot be empty "
            "or contain '..', '/' or '\\'"
        )


def select_context(
    flag: str | None, environ: Mapping[str, str], config_home: Path
) -> tuple[str, str] | None:
    """The context to use and what selected it: `--context`, `NATS_CONTEXT`, or context.txt."""
    if flag is not None:
        _check_context_name(flag, "--context")
        return flag, "--context"
    env_name = environ.get("NATS_CONTEXT", "")
    if env_name.strip():
        name = env_name.strip()
        _check_context_name(name, "NATS_CONTEXT")
        return name, "NATS_CONTEXT"
    selected = config_home / "nats" / "context.txt"
    try:
        name = selected.read_text().strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {selected}: {error_reason(exc)}") from exc
    if not name:
        return None
    _check_context_name(name, str(selected))
    return name, str(selected)


def load_context(name: str, source: str, environ: Mapping[str, str], config_home: Path) -> Context:
    """Read and check `<config home>/nats/context/<name>.json`; `source` says what selected it."""
    path = config_home / "nats" / "context" / f"{name}.json"
    where = f"context {name!r}"
    try:
        raw = path.read_text()
    except FileNotFoundError as exc:
        raise ConfigError(f"unknown {where} (selected by {source}): {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read {path}: {error_reason(exc)}") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{where}: invalid JSON in {path} (line {exc.lineno} column {exc.colno}: {exc.msg})"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: {path} does not hold a JSON object")

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{where}: field {key!r} must be a string")
        return value or None

    if text("socks_proxy"):
        raise ConfigError(
            f"{where}: socks_proxy is not supported by jstui (nats-py has no SOCKS support)"
        )
    if text("nsc"):
        raise ConfigError(f"{where}: nsc lookups are not supported by jstui (use a creds file)")
    tls_first = data.get("tls_first")
    if tls_first is not None and not isinstance(tls_first, bool):
        raise ConfigError(f"{where}: field 'tls_first' must be true or false")

    layer = Layer(tls_first=tls_first)

    def label(key: str) -> str:
        return f"{where} {key}"

    layer.url = text("url") or DEFAULT_CONTEXT_URL
    layer.labels["url"] = label("url")
    layer.user = text("user")
    if layer.user:
        layer.labels["user"] = label("user")
    for key in ("password", "token", "user_jwt", "user_seed"):
        value = text(key)
        if value is not None:
            setattr(layer, key, resolve_secret(value, label(key), environ))
            layer.labels[key] = label(key)
    for key in ("creds", "nkey"):
        value = text(key)
        if value is not None:
            setattr(layer, key, resolve_file_ref(value, label(key), environ, inline=True))
            layer.labels[key] = label(key)
    for key in ("cert", "key", "ca"):
        value = text(key)
        if value is not None:
            ref = resolve_file_ref(value, label(key), environ, inline=False)
            setattr(layer, key, ref.path)
            layer.labels[key] = label(key)
    return Context(
        name=name,
        layer=layer,
        inbox_prefix=text("inbox_prefix"),
        jetstream_domain=text("jetstream_domain"),
        jetstream_api_prefix=text("jetstream_api_prefix"),
    )


def context_names(config_home: Path) -> list[str]:
    """The natscli contexts saved under `config_home`, sorted (their files' names)."""
    folder = config_home / "nats" / "context"
    try:
        return sorted(path.stem for path in folder.glob("*.json") if path.is_file())
    except OSError:
        return []
