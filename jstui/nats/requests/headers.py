"""The headers the request console and jstui's responders agree on.

`RequestSpec` (spec.py) reads the form's ``Key: Value`` lines through
`jstui.nats.headers.parse_header_lines`, values in the escaped form of `jstui.format.editable`
(which also writes them: `editable_headers`); the console (console.py) adds `REPLY_TO_HEADER`
and `TIMEOUT_HEADER` to a stored request; the responders (jstui.nats.responders) read those two
and answer with `RESPONDER_HEADER` or the service-error pair, which `Reply` (record.py) reads
back.
"""

from __future__ import annotations

__all__ = [
    "REPLY_TO_HEADER",
    "RESPONDER_HEADER",
    "SERVICE_ERROR_CODE_HEADER",
    "SERVICE_ERROR_HEADER",
    "TIMEOUT_HEADER",
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
