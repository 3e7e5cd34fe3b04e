"""Server and monitoring URLs: split, complete and check them before anything connects.

`parse_servers` takes the comma-separated list of `--server`, `NATS_URL` or a context's `url`
(whichever layer won, named in the error message) and returns full `nats://`-style URLs; its
error messages show a URL with its user info masked (`jstui.format.redact`);
`check_monitor_url` does the same for `--monitor`'s HTTP endpoint.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

from jstui.config.settings import ConfigError
from jstui.format.redact import redact_url

_SERVER_SCHEMES = ("nats", "tls", "ws", "wss")
_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$")


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


def _masked(url: str, typed: str) -> str:
    """The URL as typed, its user info masked: error messages end up on stderr."""
    masked = redact_url(url)
    return masked if "://" in typed.strip() else masked.split("://", 1)[1]


def _reason(url: str, exc: ValueError) -> str:
    """Python's reason for a bad URL, unless the URL has user info: the reason quotes a piece
    of the URL, which is a piece of the password when an "@" or "/" is out of place."""
    return "" if "@" in url else f" ({exc})"


def _check_server_url(url: str, typed: str, source: str) -> None:
    bad = f"{source}: invalid server URL {_masked(url, typed)!r}"
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{bad}{_reason(url, exc)}") from exc
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


def check_monitor_url(value: str) -> str:
    """`--monitor URL[,URL...]` checked, each with a scheme (http:// assumed), joined by commas."""
    return ",".join(_check_one_monitor_url(part) for part in value.split(",") if part.strip())


def _check_one_monitor_url(value: str) -> str:
    url = value.strip()
    if "://" not in url:
        url = f"http://{url}"
    bad = f"--monitor: invalid URL {_masked(url, value)!r}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise ConfigError(f"{bad}{_reason(url, exc)}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigError(f"{bad}: scheme must be http or https")
    if not parts.hostname:
        raise ConfigError(f"{bad}: no host")
    return url.rstrip("/")
