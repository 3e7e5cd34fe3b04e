"""Settings: where to connect, how to authenticate, and how jstui behaves.

`resolve_settings` merges four layers, per field: command-line flag > `NATS_*` environment
variable > the selected natscli context > default (no server: jstui starts its embedded one).
natscli contexts are read from `<config home>/nats/context/<NAME>.json`, with natscli's field
names and rules (see `nats-io/jsm.go` `natscontext`).

Credentials are one *kind* per connection: user/password, creds file, nkey seed, or user JWT
(+ seed). The kind comes from the highest layer that names one (so `--creds` beats a context's
user); inside one layer natscli's order applies: user, creds, nkey, user_jwt + user_seed,
user_jwt alone. A token is added on top (a token alone in a higher layer replaces a lower layer's
credentials), and a password follows its own precedence (so `NATS_PASSWORD` can complete a
context's user). The files named for the chosen credentials and for TLS are checked when
resolving, so mistakes surface before the UI starts. With no server (embedded), auth and TLS
flags are refused and the `NATS_*` auth and TLS variables ignored: that server has neither.

No Textual import here: the CLI and the service layer both use this module.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
import re
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, unquote_to_bytes, urlsplit

from jstui.nats.errors import JstuiError

# natscli's default when a context names no URL.
DEFAULT_CONTEXT_URL = "nats://localhost:4222"
DEFAULT_FEED_BUFFER = 10_000

_SERVER_SCHEMES = ("nats", "tls", "ws", "wss")
_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$")
_VAR_RE = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z0-9_]+)")
_REFERENCE_PREFIXES = ("env://", "file://", "op://", "nsc://", "data:")


class ConfigError(JstuiError):
    """The settings cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class Settings:
    """Everything jstui needs to know before it connects. Build it with `resolve_settings`."""

    servers: tuple[str, ...] = ()
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    creds: Path | None = None
    nkey: Path | None = None
    user_jwt: str | None = field(default=None, repr=False)
    user_seed: str | None = field(default=None, repr=False)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    tls_first: bool = False
    inbox_prefix: str | None = None
    jetstream_domain: str | None = None
    jetstream_api_prefix: str | None = None
    context: str | None = None
    read_only: bool = False
    theme: str | None = None
    port: int = 0
    store_dir: Path | None = None
    monitor_url: str | None = None
    feed_buffer: int = DEFAULT_FEED_BUFFER
    feeds: tuple[str, ...] = ()
    responders: tuple[str, ...] = ()
    workers: tuple[str, ...] = ()
    # An nkey seed given inline in a context (`nkey: "data:;base64,..."` or `env://`), not a file.
    nkey_seed: str | None = field(default=None, repr=False)

    @property
    def embedded(self) -> bool:
        """True when no server is named: jstui starts its own."""
        return not self.servers

    @property
    def tls_wanted(self) -> bool:
        """Any TLS setting, TLS-first, or a `tls://` / `wss://` server URL."""
        return bool(
            self.tls_ca
            or self.tls_cert
            or self.tls_key
            or self.tls_first
            or any(url.split("://", 1)[0] in ("tls", "wss") for url in self.servers)
        )

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for `nats.connect`: auth, TLS, inbox prefix (no servers, no callbacks).

        The embedded server has neither auth nor TLS, so for it only `inbox_prefix` is returned.
        Raises `ConfigError` when the TLS files cannot be loaded.
        """
        options: dict[str, Any] = {}
        if self.inbox_prefix:
            options["inbox_prefix"] = self.inbox_prefix
        if self.embedded:
            return options
        if self.tls_wanted:
            options["tls"] = self.ssl_context()
        if self.tls_first:
            options["tls_handshake_first"] = True
        if self.user is not None:
            # nats-py sends user/pass only when both are not None.
            options["user"] = self.user
            options["password"] = self.password or ""
        elif self.creds is not None:
            options["user_credentials"] = str(self.creds)
        elif self.nkey is not None:
            options["nkeys_seed"] = str(self.nkey)
        elif self.nkey_seed is not None:
            options["nkeys_seed_str"] = self.nkey_seed
        elif self.user_jwt is not None and self.user_seed is not None:
            options["user_credentials"] = _raw_credentials(self.user_jwt, self.user_seed)
        elif self.user_jwt is not None:
            options.update(_bearer_jwt_callbacks(self.user_jwt))
        if self.token is not None:
            options["token"] = self.token
        return options

    def jetstream_options(self) -> dict[str, Any]:
        """Keyword arguments for `nc.jetstream(...)` (nats-py lets `domain` win over `prefix`)."""
        options: dict[str, Any] = {}
        if self.jetstream_domain:
            options["domain"] = self.jetstream_domain
        if self.jetstream_api_prefix:
            options["prefix"] = self.jetstream_api_prefix
        return options

    def describe_auth(self) -> str:
        """A short description for the status line, never showing a secret."""
        if self.embedded:
            return "none"
        if self.user is not None:
            kind = f"user {self.user}"
        elif self.creds is not None:
            kind = f"creds {self.creds}"
        elif self.nkey is not None or self.nkey_seed is not None:
            kind = "nkey"
        elif self.user_jwt is not None:
            kind = "jwt" if self.user_seed is not None else "bearer jwt"
        else:
            kind = ""
        if self.token is not None:
            return f"{kind} + token" if kind else "token"
        return kind or "none"

    def ssl_context(self) -> ssl.SSLContext:
        """The context for `nats.connect(tls=...)`: system roots or `tls_ca`, plus a client cert."""
        try:
            context = ssl.create_default_context(cafile=str(self.tls_ca) if self.tls_ca else None)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ConfigError(
                f"TLS CA file {self.tls_ca} cannot be loaded: {_reason(exc)}"
            ) from exc
        if self.tls_cert is not None and self.tls_key is not None:
            try:
                context.load_cert_chain(str(self.tls_cert), str(self.tls_key))
            except (ssl.SSLError, OSError, ValueError) as exc:
                raise ConfigError(
                    f"TLS certificate {self.tls_cert} / key {self.tls_key} cannot be loaded: "
                    f"{_reason(exc)}"
                ) from exc
        return context


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).replace("_", " ").lower()
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _raw_credentials(user_jwt: str, user_seed: str) -> Any:
    """The JWT and seed as the text of a .creds file, which nats-py reads without touching disk."""
    from nats.aio.client import RawCredentials

    text = (
        "-----BEGIN NATS USER JWT-----\n"
        f"{user_jwt}\n"
        "------END NATS USER JWT------\n\n"
        "-----BEGIN USER NKEY SEED-----\n"
        f"{user_seed}\n"
        "------END USER NKEY SEED------\n"
    )
    return RawCredentials(text)


def _bearer_jwt_callbacks(user_jwt: str) -> dict[str, Callable[..., bytes]]:
    """A bearer JWT (user_jwt without a seed): sent as is, with an empty signature.

    nats-py only sends the JWT when a signature callback exists; the server does not check the
    signature of a JWT whose claims say `bearer_token`.
    """
    encoded = user_jwt.encode()

    def jwt_cb() -> bytes:
        return encoded

    def signature_cb(nonce: str) -> bytes:
        return b""

    return {"user_jwt_cb": jwt_cb, "signature_cb": signature_cb}


# --- server URLs ---------------------------------------------------------------------------------


def parse_servers(value: str, source: str = "--server") -> tuple[str, ...]:
    """Split a comma-separated server list, add `nats://` where no scheme is given, and validate.

    `source` names where the value came from, for the error message.
    """
    urls: list[str] = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        url = part if "://" in part else f"nats://{part}"
        _check_server_url(url, part, source)
        urls.append(url)
    if not urls:
        raise ConfigError(f"{source}: no server URL in {value!r}")
    websocket = {url.split("://", 1)[0] in ("ws", "wss") for url in urls}
    if len(websocket) > 1:
        raise ConfigError(f"{source}: websocket and non-websocket URLs cannot be mixed")
    return tuple(urls)


def _check_server_url(url: str, shown: str, source: str) -> None:
    bad = f"{source}: invalid server URL {shown!r}"
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{bad} ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in _SERVER_SCHEMES:
        raise ConfigError(f"{bad}: scheme must be one of {', '.join(_SERVER_SCHEMES)}")
    host = parts.hostname or ""
    if not host:
        raise ConfigError(f"{bad}: no host")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError as exc:
            raise ConfigError(f"{bad}: bad IPv6 address") from exc
    elif not _HOSTNAME_RE.match(host):
        raise ConfigError(f"{bad}: expected host[:port]")
    if port is not None and port == 0:
        raise ConfigError(f"{bad}: port must be 1-65535")
    if parts.netloc.endswith(":") and port is None:
        raise ConfigError(f"{bad}: empty port")
    if scheme in ("nats", "tls") and (parts.path not in ("", "/") or parts.query or parts.fragment):
        raise ConfigError(f"{bad}: expected host[:port]")


def _check_monitor_url(value: str) -> str:
    url = value.strip()
    if "://" not in url:
        url = f"http://{url}"
    bad = f"--monitor: invalid URL {value!r}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise ConfigError(f"{bad} ({exc})") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigError(f"{bad}: scheme must be http or https")
    if not parts.hostname:
        raise ConfigError(f"{bad}: no host")
    return url.rstrip("/")


# --- value helpers -------------------------------------------------------------------------------


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME")
    return Path(home) if home else Path.home()


def _expand_user(value: str, environ: Mapping[str, str]) -> str:
    if value == "~" or value.startswith("~/"):
        return str(_home(environ)) + value[1:]
    if value.startswith("~"):
        return os.path.expanduser(value)  # ~other_user
    return value


def _expand_vars(value: str, environ: Mapping[str, str]) -> str:
    """Go's os.ExpandEnv: `$VAR` and `${VAR}`; an unset variable becomes empty."""
    return _VAR_RE.sub(lambda m: environ.get(m.group(1) or m.group(2) or "", ""), value)


def _scheme(value: str) -> str | None:
    """`env`, `file`, `op`, `nsc` or `data` when a context value is such a reference, else None."""
    lowered = value.lower()
    for prefix in _REFERENCE_PREFIXES:
        if lowered.startswith(prefix):
            return prefix.split(":", 1)[0]
    return None


def _decode_data_uri(value: str, label: str) -> str:
    header, sep, payload = value[len("data:") :].partition(",")
    if not sep:
        raise ConfigError(f"{label}: data: value has no ',' separator")
    if any(part.strip() == "base64" for part in header.split(";")):
        try:
            raw = base64.b64decode(payload.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConfigError(f"{label}: data: value is not valid base64") from exc
    else:
        raw = unquote_to_bytes(payload)
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: data: value is not UTF-8 text") from exc


def _env_reference(value: str, label: str, environ: Mapping[str, str]) -> str:
    name = value[len("env://") :].strip()
    if not name:
        raise ConfigError(f"{label}: env:// names no variable")
    if name not in environ:
        raise ConfigError(f"{label}: environment variable {name} is not set")
    if not environ[name]:
        raise ConfigError(f"{label}: environment variable {name} is empty")
    return environ[name]


def _refuse_scheme(scheme: str, label: str) -> None:
    if scheme == "op":
        raise ConfigError(f"{label}: op:// (1Password) references are not supported by jstui")
    if scheme == "nsc":
        raise ConfigError(f"{label}: nsc:// references are not supported by jstui")


def _resolve_secret(value: str, label: str, environ: Mapping[str, str]) -> str | None:
    """A context secret (user_jwt, user_seed, token, password): literal, env://, data:, file://."""
    scheme = _scheme(value)
    if scheme is None:
        return value
    _refuse_scheme(scheme, label)
    if scheme == "env":
        resolved = _env_reference(value, label, environ)
    elif scheme == "data":
        resolved = _decode_data_uri(value, label)
    else:  # file://
        path = Path(_expand_user(_expand_vars(value[len("file://") :], environ), environ))
        try:
            resolved = path.read_text()
        except OSError as exc:
            raise ConfigError(f"{label}: cannot read {path}: {_reason(exc)}") from exc
    return resolved.rstrip("\r\n") or None


@dataclass(frozen=True)
class _FileOrText:
    """A creds/nkey context value: a file path, or the material itself (data:, env://)."""

    path: Path | None = None
    text: str | None = None


def _resolve_file_ref(
    value: str, label: str, environ: Mapping[str, str], *, inline: bool
) -> _FileOrText:
    scheme = _scheme(value)
    if scheme is not None:
        _refuse_scheme(scheme, label)
        if scheme == "file":
            value = value[len("file://") :]
        elif inline and scheme == "env":
            return _FileOrText(text=_env_reference(value, label, environ))
        elif inline and scheme == "data":
            return _FileOrText(text=_decode_data_uri(value, label))
    return _FileOrText(path=Path(_expand_user(_expand_vars(value, environ), environ)))


def parse_creds_text(text: str) -> tuple[str, str] | None:
    """The user JWT and seed of a .creds file's text, or None when it is not one."""
    jwt = seed = None
    lines = text.splitlines()
    for index, line in enumerate(lines):
        following = next((x.strip() for x in lines[index + 1 :] if x.strip()), None)
        if "BEGIN NATS USER JWT" in line:
            jwt = following
        elif "BEGIN USER NKEY SEED" in line:
            seed = following
    if not jwt or not seed or jwt.startswith("---") or seed.startswith("---"):
        return None
    return jwt, seed


def _valid_seed(seed: str) -> bool:
    import nkeys

    try:
        key_pair = nkeys.from_seed(bytearray(seed.strip().encode()))
        key_pair.wipe()
    except Exception:
        return False
    return True


# --- the layers ----------------------------------------------------------------------------------


@dataclass
class _Layer:
    """Connection values from one source; `labels` say where each came from, for messages."""

    url: str | None = None
    user: str | None = None
    password: str | None = None
    token: str | None = None
    creds: _FileOrText | None = None
    nkey: _FileOrText | None = None
    user_jwt: str | None = None
    user_seed: str | None = None
    cert: Path | None = None
    key: Path | None = None
    ca: Path | None = None
    tls_first: bool | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def credential_kind(self) -> str | None:
        if self.user:
            return "user"
        if self.creds:
            return "creds"
        if self.nkey:
            return "nkey"
        if self.user_jwt:
            return "jwt"
        if self.user_seed:
            return "seed"
        return None


_FLAG_LABELS = {
    "url": "--server",
    "user": "--user",
    "password": "--password",
    "token": "--token",
    "creds": "--creds",
    "nkey": "--nkey",
    "cert": "--tls-cert",
    "key": "--tls-key",
    "ca": "--tls-ca",
    "tls_first": "--tls-first",
}

_ENV_NAMES = {
    "url": "NATS_URL",
    "user": "NATS_USER",
    "password": "NATS_PASSWORD",
    "token": "NATS_TOKEN",
    "creds": "NATS_CREDS",
    "nkey": "NATS_NKEY",
    "cert": "NATS_CERT",
    "key": "NATS_KEY",
    "ca": "NATS_CA",
}

_FLAG_KEYS = {
    "url": "server",
    "user": "user",
    "password": "password",
    "token": "token",
    "creds": "creds",
    "nkey": "nkey",
    "cert": "tls_cert",
    "key": "tls_key",
    "ca": "tls_ca",
}


def _text(value: Any) -> str | None:
    """A flag or variable value; empty means not given (as natscli's `With*` options)."""
    if value is None:
        return None
    if isinstance(value, Sequence) and not isinstance(value, str):
        value = ",".join(str(v) for v in value)
    text = str(value)
    return text if text.strip() else None


def _command_line_layer(
    values: Mapping[str, Any], labels: Mapping[str, str], environ: Mapping[str, str]
) -> _Layer:
    """The flags or the environment: plain values, paths with `~` expanded."""
    layer = _Layer()
    for name, label in labels.items():
        if name == "tls_first":
            continue
        text = _text(values.get(name))
        if text is None:
            continue
        layer.labels[name] = label
        if name in ("creds", "nkey"):
            setattr(layer, name, _FileOrText(path=Path(_expand_user(text, environ))))
        elif name in ("cert", "key", "ca"):
            setattr(layer, name, Path(_expand_user(text, environ)))
        else:
            setattr(layer, name, text)
    return layer


@dataclass
class _Context:
    name: str
    layer: _Layer
    inbox_prefix: str | None = None
    jetstream_domain: str | None = None
    jetstream_api_prefix: str | None = None


def default_config_home(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME`, else `~/.config` (natscli uses this on every platform)."""
    environ = os.environ if environ is None else environ
    xdg = environ.get("XDG_CONFIG_HOME")
    return Path(xdg) if xdg else _home(environ) / ".config"


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
        raise ConfigError(f"cannot read {selected}: {_reason(exc)}") from exc
    if not name:
        return None
    _check_context_name(name, str(selected))
    return name, str(selected)


def _load_context(
    name: str, source: str, environ: Mapping[str, str], config_home: Path
) -> _Context:
    path = config_home / "nats" / "context" / f"{name}.json"
    where = f"context {name!r}"
    try:
        raw = path.read_text()
    except FileNotFoundError as exc:
        raise ConfigError(f"unknown {where} (selected by {source}): {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read {path}: {_reason(exc)}") from exc
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

    layer = _Layer(tls_first=tls_first)

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
            setattr(layer, key, _resolve_secret(value, label(key), environ))
            layer.labels[key] = label(key)
    for key in ("creds", "nkey"):
        value = text(key)
        if value is not None:
            setattr(layer, key, _resolve_file_ref(value, label(key), environ, inline=True))
            layer.labels[key] = label(key)
    for key in ("cert", "key", "ca"):
        value = text(key)
        if value is not None:
            ref = _resolve_file_ref(value, label(key), environ, inline=False)
            setattr(layer, key, ref.path)
            layer.labels[key] = label(key)
    return _Context(
        name=name,
        layer=layer,
        inbox_prefix=text("inbox_prefix"),
        jetstream_domain=text("jetstream_domain"),
        jetstream_api_prefix=text("jetstream_api_prefix"),
    )


def _first(layers: Sequence[_Layer], name: str) -> tuple[Any, str | None]:
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
        raise ConfigError(f"{label}: cannot read {path}: {_reason(exc)}") from exc


def _credentials(layers: Sequence[_Layer]) -> dict[str, Any]:
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
            _check_creds(_read(path, label), f"{label}: {path}")
            out["creds"] = path
        else:
            out["user_jwt"], out["user_seed"] = _check_creds(chosen.creds.text or "", label)
    elif chosen is not None and kind == "nkey":
        assert chosen.nkey is not None
        label = chosen.labels["nkey"]
        if chosen.nkey.path is not None:
            path = _existing_file(chosen.nkey.path, label, "nkey seed file")
            if not _valid_seed(_read(path, label)):
                raise ConfigError(f"{label}: {path} does not hold a valid nkey seed")
            out["nkey"] = path
        else:
            seed = (chosen.nkey.text or "").strip()
            if not _valid_seed(seed):
                raise ConfigError(f"{label}: not a valid nkey seed")
            out["nkey_seed"] = seed
    elif chosen is not None and kind == "jwt":
        if chosen.user_seed is not None and not _valid_seed(chosen.user_seed):
            raise ConfigError(f"{chosen.labels['user_seed']}: not a valid nkey seed")
        out["user_jwt"] = chosen.user_jwt
        out["user_seed"] = chosen.user_seed
    elif chosen is not None and kind == "seed":
        raise ConfigError(f"{chosen.labels['user_seed']}: user_seed is set without user_jwt")
    out["token"], _ = _first(layers, "token")
    return out


def _check_creds(text: str, where: str) -> tuple[str, str]:
    parsed = parse_creds_text(text)
    if parsed is None:
        raise ConfigError(f"{where} is not a NATS credentials file (no user JWT and seed)")
    if not _valid_seed(parsed[1]):
        raise ConfigError(f"{where}: the credentials hold an invalid nkey seed")
    return parsed


def _tls(cli: _Layer, context: _Layer | None) -> dict[str, Any]:
    """cert/key: a pair from flags/environment, else a complete pair from the context; and ca."""
    out: dict[str, Any] = {}
    cert, key = cli.cert, cli.key
    if (cert is None) != (key is None):
        given, missing = ("cert", "key") if cert is not None else ("key", "cert")
        raise ConfigError(
            f"{cli.labels[given]} needs a TLS {missing} too "
            f"({_FLAG_LABELS[missing]} or {_ENV_NAMES[missing]})"
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

    flag_values = {name: flags.get(key) for name, key in _FLAG_KEYS.items()}
    flag_layer = _command_line_layer(flag_values, _FLAG_LABELS, environ)
    env_values = {name: environ.get(var) for name, var in _ENV_NAMES.items()}
    env_layer = _command_line_layer(env_values, _ENV_NAMES, environ)

    context_flag = flags.get("context")
    selected = select_context(
        None if context_flag is None else str(context_flag).strip(), environ, config_home
    )
    context = _load_context(*selected, environ, config_home) if selected else None
    layers = [flag_layer, env_layer] + ([context.layer] if context else [])

    url, url_label = _first(layers, "url")
    servers = parse_servers(url, url_label or "--server") if url is not None else ()

    cli = _Layer(
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
    store = _text(flags.get("store"))
    monitor = _text(flags.get("monitor"))
    feed_buffer = flags.get("feed_buffer")
    theme = _text(flags.get("theme"))

    settings = Settings(
        servers=servers,
        tls_first=tls_first,
        inbox_prefix=context.inbox_prefix if context else None,
        jetstream_domain=context.jetstream_domain if context else None,
        jetstream_api_prefix=context.jetstream_api_prefix if context else None,
        context=context.name if context else None,
        read_only=bool(flags.get("read_only") or False),
        theme=theme.strip() if theme else None,
        port=_int(port, "--port", 0, 65535) if port is not None else 0,
        store_dir=Path(_expand_user(store, environ)) if store else None,
        monitor_url=_check_monitor_url(monitor) if monitor else None,
        feed_buffer=(
            _int(feed_buffer, "--feed-buffer", 1)
            if feed_buffer is not None
            else DEFAULT_FEED_BUFFER
        ),
        feeds=_tuple(flags.get("feeds")),
        responders=_tuple(flags.get("responders")),
        workers=_tuple(flags.get("workers")),
        **credentials,
        **tls,
    )
    if settings.tls_wanted and not settings.embedded:
        settings.ssl_context()  # fail now, with the file names, rather than at connect time
    return settings
