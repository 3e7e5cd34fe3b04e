"""The headers the request console and jstui's responders agree on, and the form's header text.

`RequestSpec` (spec.py) reads the form's ``Key: Value`` lines through `parse_headers`, values in
the escaped form of `jstui.format.editable` (which also writes them: `editable_headers`); the
console (console.py) adds `REPLY_TO_HEADER` and `TIMEOUT_HEADER` to a stored request; the
responders (jstui.nats.responders) read those two and answer with `RESPONDER_HEADER` or the
service-error pair, which `Reply` (record.py) reads back.
"""

from __future__ import annotations

import re

from jstui.format.editable import EscapeError, unescape_text
from jstui.nats.errors import ValidationError

__all__ = [
    "REPLY_TO_HEADER",
    "RESPONDER_HEADER",
    "SERVICE_ERROR_CODE_HEADER",
    "SERVICE_ERROR_HEADER",
    "TIMEOUT_HEADER",
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

    Values are in escaped form (``\\x1b``, ``\\u202e``, ``\\\\``); any character but a line break
    may be sent that way. Raises `ValidationError` naming the first bad line: no colon, an empty
    or invalid name, a name given twice (nats-py sends one value per name), a bad escape.
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
        try:
            value = unescape_text(value.strip())
        except EscapeError as error:
            raise ValidationError("headers", f"line {number}: {error.reason}") from None
        if "\r" in value or "\n" in value:
            raise ValidationError(
                "headers", f"line {number}: a header value cannot hold a line break"
            )
        seen.add(name.lower())
        pairs.append((name, value))
    return tuple(pairs)
