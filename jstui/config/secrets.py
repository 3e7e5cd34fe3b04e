"""Values that point elsewhere: `env://`, `data:`, `file://` references, paths and creds files.

natscli contexts may give a secret (password, token, user JWT, seed) literally or as a reference;
`resolve_secret` turns it into the text. Creds and nkey values may be a file path or the material
itself, so `resolve_file_ref` returns a `FileOrText`. `op://` and `nsc://` are refused with a
message. Paths get `$VAR` and `~` expanded as natscli does. `parse_creds_text`, `check_creds` and
`valid_seed` check that a creds file or seed holds what it claims, so that a mistake is reported
before connecting (nats-py would loop forever on a creds file without a JWT).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_to_bytes

from jstui.config.settings import ConfigError, error_reason

_VAR_RE = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z0-9_]+)")
_REFERENCE_PREFIXES = ("env://", "file://", "op://", "nsc://", "data:")


def home_dir(environ: Mapping[str, str]) -> Path:
    """`$HOME` of the given environment, else the user's home."""
    home = environ.get("HOME")
    return Path(home) if home else Path.home()


def expand_user(value: str, environ: Mapping[str, str]) -> str:
    """A leading `~` or `~user` expanded, with `~` read from the given environment."""
    if value == "~" or value.startswith("~/"):
        return str(home_dir(environ)) + value[1:]
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


def resolve_secret(value: str, label: str, environ: Mapping[str, str]) -> str | None:
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
        path = Path(expand_user(_expand_vars(value[len("file://") :], environ), environ))
        try:
            resolved = path.read_text()
        except OSError as exc:
            raise ConfigError(f"{label}: cannot read {path}: {error_reason(exc)}") from exc
    return resolved.rstrip("\r\n") or None


@dataclass(frozen=True)
class FileOrText:
    """A creds/nkey context value: a file path, or the material itself (data:, env://)."""

    path: Path | None = None
    text: str | None = None


def resolve_file_ref(
    value: str, label: str, environ: Mapping[str, str], *, inline: bool
) -> FileOrText:
    """A creds/nkey/TLS value: a path (`$VAR`, `~` expanded), or with `inline` the material."""
    scheme = _scheme(value)
    if scheme is not None:
        _refuse_scheme(scheme, label)
        if scheme == "file":
            value = value[len("file://") :]
        elif inline and scheme == "env":
            return FileOrText(text=_env_reference(value, label, environ))
        elif inline and scheme == "data":
            return FileOrText(text=_decode_data_uri(value, label))
    return FileOrText(path=Path(expand_user(_expand_vars(value, environ), environ)))


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


def valid_seed(seed: str) -> bool:
    """True when `seed` is an nkey seed that nats-py can sign with."""
    import nkeys

    try:
        key_pair = nkeys.from_seed(bytearray(seed.strip().encode()))
        key_pair.wipe()
    except Exception:
        return False
    return True


def check_creds(text: str, where: str) -> tuple[str, str]:
    """The JWT and seed of a creds text; `ConfigError` naming `where` when it holds neither."""
    parsed = parse_creds_text(text)
    if parsed is None:
        raise ConfigError(f"{where} is not a NATS credentials file (no user JWT and seed)")
    if not valid_seed(parsed[1]):
        raise ConfigError(f"{where}: the credentials hold an invalid nkey seed")
    return parsed
