"""The headers the request console and jstui's responders agree on, and the form's header text.

`RequestSpec` (spec.py) reads the form's ``Key: Value`` lines through `parse_headers`; the
console (console.py) adds `REPLY_TO_HEADER` and `TIMEOUT_HEADER` to a stored request; the
responders (jstui.nats.responders) read those two and answer with `RESPONDER_HEADER` or the
service-error pair, which `Reply` (record.py) reads back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from jstui.nats.errors import ValidationError

__all__ = [
    "REPLY_TO_HEADER",
    "RESPONDER_HEADER",
    "SERVICE_ERROR_CODE_HEADER",
    "SERVICE_ERROR_HEADER",
    "TIMEOUT_HEADER",
    "format_headers",
    "parse_headers",
]

REPLY_TO_HEADER = "reply-to"
"""Names the inbox a stored request's answer goes to (the tutorial's header, lower case)."""
TIMEOUT_HEADER = "Jstui-Timeout"
"""Seconds the requester listens; jstui's stored responders skip requests older than this."""
RESPONDER_HEADER = "Jstui-Responder"
"""The name of the jstui responder that sent a reply."""
SERVICE_ERROR_HEADER = "Nats-Service-Error"
"""The NATS micro-services convention for an error reply (with the code below)."""
SERVICE_ERROR_CODE_HEADER = "Nats-Service-Error-Code"

# A header name is an RFC 7230 token: visible ASCII but no separators (':' ends the name anyway).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def parse_headers(text: str) -> tuple[tuple[str, str], ...]:
    """``Key: Value`` lines to header pairs, in order; blank lines are ignored.

    Raises `ValidationError` naming the first bad line: no colon, an empty or invalid name, or a
    name given twice (nats-py sends one value per name).
    """
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon:
            raise ValidationError("headers", f"line {number}: expected 'Key: Value'")
        if not name:
            raise ValidationError("headers", f"line {number}: the header name is empty")
        if not _HEADER_NAME.fullmatch(name):
            raise ValidationError(
                "headers", f"line {number}: invalid header name (letters, digits, - and _ only)"
            )
        if name.lower() in seen:
            raise ValidationError("headers", f"line {number}: {name} is given twice")
        if any(not c.isprintable() for c in value):
            raise ValidationError("headers", f"line {number}: the value has control characters")
        seen.add(name.lower())
        pairs.append((name, value.strip()))
    return tuple(pairs)


def format_headers(headers: Iterable[tuple[str, str]]) -> str:
    """The form text of header pairs, one ``Key: Value`` per line."""
    return "\n".join(f"{key}: {value}" for key, value in headers)
