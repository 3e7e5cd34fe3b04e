"""`Settings`, the checked result of resolution, and `ConfigError`, the one error it raises.

`resolve_settings` (in `resolve.py`) builds a `Settings` once, before the UI starts; from then on
it is read-only. The session turns it into `nats.connect` keyword arguments through
`connect_options` (auth, TLS, inbox prefix) and `jetstream_options` (domain or API prefix); the
status line shows `describe_auth` and the natscli `context` in use. Secrets never appear in the
repr (nor do the server URLs, whose user info may hold one); `secret_values` lists them for the
log's filter.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jstui.nats.errors import JstuiError

DEFAULT_FEED_BUFFER = 10_000


class ConfigError(JstuiError):
    """The settings cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class Settings:
    """Everything jstui needs to know before it connects. Build it with `resolve_settings`."""

    servers: tuple[str, ...] = field(default=(), repr=False)  # user info may hold a secret
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
    start_pane: str | None = None
    """`--pane NAME`: the pane jstui opens on, maximized (the cli checks the name)."""
    port: int = 0
    store_dir: Path | None = None
    monitor_url: str | None = None
    feed_buffer: int = DEFAULT_FEED_BUFFER
    feeds: tuple[str, ...] = ()
    responders: tuple[str, ...] = ()
    workers: tuple[str, ...] = ()
    # An nkey seed given inline in a context (`nkey: "data:;base64,..."` or `env://`), not a file.
    nkey_seed: str | None = field(default=None, repr=False)
    log_file: Path | None = None
    """`--log FILE`: the debug log (`jstui.logfile`); None: no log."""
    log_payloads: bool = False
    """`--log-payloads`: the log also holds request and reply bodies."""
    system: Settings | None = field(default=None, repr=False)
    """The system user's connection (`--system-user/--system-password`, `--system-creds`,
    `--system-context`, or the embedded server's own): its servers and credentials, TLS as the
    app's. Used only for server-wide observation requests."""
    watch: str | None = None
    """`--watch NAME`: the group the Workers pane watches at start-up."""
    watch_requests: str | None = None
    """`--watch-requests SUBJECT`: the subject whose requests (other programs') the Request/Reply
    pane watches at start-up, matching each with its replies."""

    @property
    def monitor_urls(self) -> tuple[str, ...]:
        """`--monitor URL[,URL...]`, one per server of a cluster."""
        if not self.monitor_url:
            return ()
        return tuple(url for url in self.monitor_url.split(",") if url)

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
        elif any(urlsplit(url).username is not None for url in self.servers):
            kind = "user info in the URL"
        else:
            kind = ""
        if self.token is not None:
            return f"{kind} + token" if kind else "token"
        return kind or "none"

    def secret_values(self) -> tuple[str, ...]:
        """Every secret held here as text, for the log's filter to mask: password, token, seeds,
        JWTs, and the password or token in each server URL (as written and percent-decoded).
        Secrets inside files (creds, nkey) are masked there by their shape."""
        values = [self.password, self.token, self.user_jwt, self.user_seed, self.nkey_seed]
        for url in self.servers:
            parts = urlsplit(url)
            secret = parts.password if parts.password is not None else parts.username
            if secret:
                values += [secret, unquote(secret)]
        if self.system is not None:
            values += self.system.secret_values()
        return tuple(value for value in values if value)

    def ssl_context(self) -> ssl.SSLContext:
        """The context for `nats.connect(tls=...)`: system roots or `tls_ca`, plus a client cert."""
        try:
            context = ssl.create_default_context(cafile=str(self.tls_ca) if self.tls_ca else None)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ConfigError(
                f"TLS CA file {self.tls_ca} cannot be loaded: {error_reason(exc)}"
            ) from exc
        if self.tls_cert is not None and self.tls_key is not None:
            try:
                context.load_cert_chain(str(self.tls_cert), str(self.tls_key))
            except (ssl.SSLError, OSError, ValueError) as exc:
                raise ConfigError(
                    f"TLS certificate {self.tls_cert} / key {self.tls_key} cannot be loaded: "
                    f"{error_reason(exc)}"
                ) from exc
        return context


def error_reason(exc: BaseException) -> str:
    """Why a file or TLS material could not be used, in a few words for an error message."""
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
