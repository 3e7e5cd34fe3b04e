"""`resolve_settings`: the layers merged, per field, into checked `Settings`.

Order: command-line flag > `NATS_*` environment variable > the selected natscli context > default
(no server: jstui starts its embedded one). The flag and environment layers come from
`layers.command_line_layer`, the context layer from `context.load_context`; `_first` takes each
value from the highest layer that has it.

Credentials are one *kind* per connection: user/password, creds file, nkey seed, or user JWT
(+ seed). The kind comes from the highest layer that names one (so `--creds` beats a context's
user); inside one layer natscli's order applies: user, creds, nkey, user_jwt + user_seed,
user_jwt alone. A token is added on top (a token alone in a higher layer replaces a lower layer's
credentials), and a password follows its own precedence (so `NATS_PASSWORD` can complete a
context's user). The files named for the chosen credentials and for TLS are checked when
resolving, so mistakes surface before the UI starts. With no server (embedded), auth and TLS
flags are refused and the `NATS_*` auth and TLS variables ignored: that server has neither.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from jstui.config.context import default_config_home, load_context, select_context
from jstui.config.layers import (
    ENV_NAMES,
    FLAG_KEYS,
    FLAG_LABELS,
    Layer,
    command_line_layer,
    flag_text,
)
from jstui.config.secrets import check_creds, expand_user, valid_seed
from jstui.config.settings import DEFAULT_FEED_BUFFER, ConfigError, Settings, error_reason
from jstui.config.urls import check_monitor_url, parse_servers


def _first(layers: Sequence[Layer], name: str) -> tuple[Any, str | None]:
    for layer in layers:
        value = getattr(layer, name)
        if value is not None:
            return value, layer.labels.get(name)
    return None, None


def _existing_file(path: Path, label: str, what: str) -> Path:
    if not path.exists():
        raise ConfigError(f"{label}: {what} {path} does not exist")
    if not path.is_file():
        raise ConfigError(f"{label}: {what} {path} is not a file")
    return path


def _read(path: Path, label: str) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{label}: cannot read {path}: {error_reason(exc)}") from exc


def _credentials(layers: Sequence[Layer]) -> dict[str, Any]:
    """The one credential kind to use (see the module docstring), checked; plus the token.

    The highest layer naming a credential or a token decides the kind; when it names only a token,
    the token is used alone (a `NATS_TOKEN` does not get mixed with a context's user).
    """
    out: dict[str, Any] = {}
    chosen = next((layer for layer in layers if layer.credential_kind() or layer.token), None)
    kind = chosen.credential_kind() if chosen else None
    if chosen is not None and kind == "user":
        out["user"] = chosen.user
        out["password"], _ = _first(layers, "password")
    elif chosen is not None and kind == "creds":
        assert chosen.creds is not None
        label = chosen.labels["creds"]
        if chosen.creds.path is not None:
            # nats-py loops forever on a creds file without a JWT section: check it here.
            path = _existing_file(chosen.creds.path, label, "creds file")
            check_creds(_read(path, label), f"{label}: {path}")
            out["creds"] = path
        else:
            out["user_jwt"], out["user_seed"] = check_creds(chosen.creds.text or "", label)
    elif chosen is not None and kind == "nkey":
        assert chosen.nkey is not None
        label = chosen.labels["nkey"]
        if chosen.nkey.path is not None:
            path = _existing_file(chosen.nkey.path, label, "nkey seed file")
            if not valid_seed(_read(path, label)):
                raise ConfigError(f"{label}: {path} does not hold a valid nkey seed")
            out["nkey"] = path
        else:
            seed = (chosen.nkey.text or "").strip()
            if not valid_seed(seed):
                raise ConfigError(f"{label}: not a valid nkey seed")
            out["nkey_seed"] = seed
    elif chosen is not None and kind == "jwt":
        if chosen.user_seed is not None and not valid_seed(chosen.user_seed):
            raise ConfigError(f"{chosen.labels['user_seed']}: not a valid nkey seed")
        out["user_jwt"] = chosen.user_jwt
        out["user_seed"] = chosen.user_seed
    elif chosen is not None and kind == "seed":
        raise ConfigError(f"{chosen.labels['user_seed']}: user_seed is set without user_jwt")
    out["token"], _ = _first(layers, "token")
    return out


def _tls(cli: Layer, context: Layer | None) -> dict[str, Any]:
    """cert/key: a pair from flags/environment, else a complete pair from the context; and ca."""
    out: dict[str, Any] = {}
    cert, key = cli.cert, cli.key
    if (cert is None) != (key is None):
        given, missing = ("cert", "key") if cert is not None else ("key", "cert")
        raise ConfigError(
            f"{cli.labels[given]} needs a TLS {missing} too "
            f"({FLAG_LABELS[missing]} or {ENV_NAMES[missing]})"
        )
    labels = dict(cli.labels)
    if cert is None and context is not None and context.cert and context.key:
        cert, key = context.cert, context.key
        labels.update(cert=context.labels["cert"], key=context.labels["key"])
    ca = cli.ca
    if ca is None and context is not None:
        ca = context.ca
        labels["ca"] = context.labels.get("ca", "")
    if cert is not None and key is not None:
        out["tls_cert"] = _existing_file(cert, labels["cert"], "TLS certificate")
        out["tls_key"] = _existing_file(key, labels["key"], "TLS key")
    if ca is not None:
        out["tls_ca"] = _existing_file(ca, labels["ca"], "TLS CA file")
    return out


def _int(value: Any, flag: str, low: int, high: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{flag}: {value!r} is not a whole number") from exc
    if number < low or (high is not None and number > high):
        limit = f"{low}-{high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{flag}: {number} is out of range ({limit})")
    return number


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


def _system_settings(
    flags: Mapping[str, Any],
    environ: Mapping[str, str],
    config_home: Path,
    servers: tuple[str, ...],
    tls: dict[str, Any],
) -> Settings | None:
    """The system user's connection from `--system-*`, or None when none is given.

    One kind: a natscli context (its URL too, when it has one), a creds file, or a user with a
    password. TLS is the app's. Refused without a server: the embedded server brings its own.
    """
    user = flag_text(flags.get("system_user"))
    password = flag_text(flags.get("system_password"))
    creds = flag_text(flags.get("system_creds"))
    context_name = flag_text(flags.get("system_context"))
    named = [
        label
        for label, value in (
            ("--system-context", context_name),
            ("--system-creds", creds),
            ("--system-user", user),
        )
        if value
    ]
    if not named and password is None:
        return None
    if not servers:
        given = named + (["--system-password"] if password is not None else [])
        raise ConfigError(
            f"{', '.join(given)} given without a server: the embedded server's system account "
            "is used on its own"
        )
    if len(named) > 1:
        raise ConfigError(f"give one of {', '.join(named)}, not several")
    if password is not None and not user:
        raise ConfigError("--system-password needs --system-user")
    system_servers = servers
    credentials: dict[str, Any]
    if context_name:
        context = load_context(context_name.strip(), "--system-context", environ, config_home)
        credentials = _credentials([context.layer])
        if context.layer.url:
            label = context.layer.labels.get("url", "--system-context")
            system_servers = parse_servers(context.layer.url, label)
        if not credentials.get("token") and not any(
            credentials.get(key) for key in ("user", "creds", "nkey", "nkey_seed", "user_jwt")
        ):
            raise ConfigError(f"--system-context {context_name}: the context has no credentials")
    elif creds:
        path = _existing_file(Path(expand_user(creds, environ)), "--system-creds", "creds file")
        check_creds(_read(path, "--system-creds"), f"--system-creds: {path}")
        credentials = {"creds": path}
    else:
        credentials = {"user": user, "password": password}
    return Settings(servers=system_servers, **credentials, **tls)


def resolve_settings(
    flags: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    config_home: Path | None = None,
) -> Settings:
    """Merge flags > `NATS_*` environment > natscli context > defaults into checked `Settings`.

    `flags` holds the command-line values, None (or missing) when not given. Files named for
    credentials and TLS must exist; creds and nkey files must hold what they claim; the TLS files
    must load. Anything wrong raises `ConfigError` with a one-line message.
    """
    environ = os.environ if environ is None else environ
    config_home = default_config_home(environ) if config_home is None else config_home

    flag_values = {name: flags.get(key) for name, key in FLAG_KEYS.items()}
    flag_layer = command_line_layer(flag_values, FLAG_LABELS, environ)
    env_values = {name: environ.get(var) for name, var in ENV_NAMES.items()}
    env_layer = command_line_layer(env_values, ENV_NAMES, environ)

    context_flag = flags.get("context")
    selected = select_context(
        None if context_flag is None else str(context_flag).strip(), environ, config_home
    )
    context = load_context(*selected, environ, config_home) if selected else None
    layers = [flag_layer, env_layer] + ([context.layer] if context else [])

    url, url_label = _first(layers, "url")
    servers = parse_servers(url, url_label or "--server") if url is not None else ()

    cli = Layer(
        cert=flag_layer.cert or env_layer.cert,
        key=flag_layer.key or env_layer.key,
        ca=flag_layer.ca or env_layer.ca,
    )
    for name in ("cert", "key", "ca"):
        for layer in (flag_layer, env_layer):
            if name in layer.labels:
                cli.labels[name] = layer.labels[name]
                break

    tls_first_flag = flags.get("tls_first")
    if tls_first_flag is not None:
        tls_first = bool(tls_first_flag)
    else:
        tls_first = bool(context and context.layer.tls_first)

    if servers:
        credentials = _credentials(layers)
        tls = _tls(cli, context.layer if context else None)
    else:
        # The embedded server has no auth and no TLS. Flags asking for them are a mistake; NATS_*
        # variables (perhaps set for another tool) are ignored.
        given = [label for name, label in flag_layer.labels.items() if name != "url"]
        if tls_first:
            given.append("--tls-first")
        if given:
            raise ConfigError(
                f"{', '.join(given)} given without a server: name one with --server "
                "(the embedded server has no auth or TLS)"
            )
        credentials, tls = {}, {}

    port = flags.get("port")
    store = flag_text(flags.get("store"))
    monitor = flag_text(flags.get("monitor"))
    feed_buffer = flags.get("feed_buffer")
    theme = flag_text(flags.get("theme"))
    log_file = flag_text(flags.get("log"))
    log_payloads = bool(flags.get("log_payloads") or False)
    if log_payloads and not log_file:
        raise ConfigError("--log-payloads needs --log FILE")
    start_pane = flag_text(flags.get("pane"))
    watch = flag_text(flags.get("watch"))
    watch_requests = flag_text(flags.get("watch_requests"))
    system = _system_settings(flags, environ, config_home, servers, tls)

    settings = Settings(
        servers=servers,
        tls_first=tls_first,
        inbox_prefix=context.inbox_prefix if context else None,
        jetstream_domain=context.jetstream_domain if context else None,
        jetstream_api_prefix=context.jetstream_api_prefix if context else None,
        context=context.name if context else None,
        read_only=bool(flags.get("read_only") or False),
        theme=theme.strip() if theme else None,
        start_pane=start_pane.strip().lower() if start_pane else None,
        port=_int(port, "--port", 0, 65535) if port is not None else 0,
        store_dir=Path(expand_user(store, environ)) if store else None,
        monitor_url=check_monitor_url(monitor) if monitor else None,
        feed_buffer=(
            _int(feed_buffer, "--feed-buffer", 1)
            if feed_buffer is not None
            else DEFAULT_FEED_BUFFER
        ),
        feeds=_tuple(flags.get("feeds")),
        responders=_tuple(flags.get("responders")),
        workers=_tuple(flags.get("workers")),
        log_file=Path(expand_user(log_file, environ)) if log_file else None,
        log_payloads=log_payloads,
        system=system,
        watch=watch.strip() if watch and watch.strip() else None,
        watch_requests=(
            watch_requests.strip() if watch_requests and watch_requests.strip() else None
        ),
        **credentials,
        **tls,
    )
    if settings.tls_wanted and not settings.embedded:
        settings.ssl_context()  # fail now, with the file names, rather than at connect time
    return settings


UI_FIELDS = (
    "read_only",
    "theme",
    "start_pane",
    "feed_buffer",
    "feeds",
    "responders",
    "workers",
    "log_file",
    "log_payloads",
    "watch",
)
"""What belongs to jstui's run, not to the connection: kept when switching servers."""


def switch_target(
    current: Settings, flags: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> Settings:
    """The settings after a switch from the palette: the connection from `flags` alone (a
    ``context`` name, or ``server`` with optional ``user``/``password``/``token``), jstui's own
    choices (read-only, theme, ...) kept from `current`. `NATS_*` variables are left out: the
    user named the target now, and a variable set for another tool must not override it."""
    environ = os.environ if environ is None else environ
    plain = {name: value for name, value in environ.items() if not name.startswith("NATS_")}
    if flags.get("context"):
        target = resolve_settings(flags, plain)
    else:  # a server named alone takes nothing from the selected context: an empty folder
        with tempfile.TemporaryDirectory(prefix="jstui-no-context-") as empty:
            target = resolve_settings(flags, plain, Path(empty))
    if not target.servers:
        raise ConfigError("no server named: give a URL, or a context that has one")
    return replace(target, **{name: getattr(current, name) for name in UI_FIELDS})
