"""`Layer`: the connection values of one source, and the two sources on the command line.

Resolution reads up to three layers, highest first: the flags, the `NATS_*` environment variables
(both built here by `command_line_layer`, with `~` expanded in paths) and the selected natscli
context (built in `context.py`). Each value keeps a label saying where it came from (`--creds`,
`NATS_CREDS`, `context 'prod' creds`), so that every error message names its source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jstui.config.secrets import FileOrText, expand_user


@dataclass
class Layer:
    """Connection values from one source; `labels` say where each came from, for messages."""

    url: str | None = None
    user: str | None = None
    password: str | None = None
    token: str | None = None
    creds: FileOrText | None = None
    nkey: FileOrText | None = None
    user_jwt: str | None = None
    user_seed: str | None = None
    cert: Path | None = None
    key: Path | None = None
    ca: Path | None = None
    tls_first: bool | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def credential_kind(self) -> str | None:
        """The first credential this layer names, in natscli's order, or None."""
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


# Layer field -> the flag that sets it, as error messages name it.
FLAG_LABELS = {
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

# Layer field -> the environment variable that sets it (natscli's names).
ENV_NAMES = {
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

# Layer field -> the key of the parsed command line (click's parameter name).
FLAG_KEYS = {
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


def flag_text(value: Any) -> str | None:
    """A flag or variable value; empty means not given (as natscli's `With*` options)."""
    if value is None:
        return None
    if isinstance(value, Sequence) and not isinstance(value, str):
        value = ",".join(str(v) for v in value)
    text = str(value)
    return text if text.strip() else None


def command_line_layer(
    values: Mapping[str, Any], labels: Mapping[str, str], environ: Mapping[str, str]
) -> Layer:
    """The flags or the environment: plain values, paths with `~` expanded."""
    layer = Layer()
    for name, label in labels.items():
        if name == "tls_first":
            continue
        text = flag_text(values.get(name))
        if text is None:
            continue
        layer.labels[name] = label
        if name in ("creds", "nkey"):
            setattr(layer, name, FileOrText(path=Path(expand_user(text, environ))))
        elif name in ("cert", "key", "ca"):
            setattr(layer, name, Path(expand_user(text, environ)))
        else:
            setattr(layer, name, text)
    return layer
