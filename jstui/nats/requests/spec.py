"""One request as the form describes it: `RequestSpec`, its mode, and the parsers of its fields.

The request form (and a saved request read back through `RequestSpec.from_json`) becomes a
`RequestSpec` checked field by field (`SpecErrors`); the console (console.py) sends it and keeps
it in the request's `RequestRecord` (record.py); `SavedRequests` (saved.py) stores it as JSON.
Plain data: no I/O here.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from jstui.format.editable import EscapeError, PayloadFormat, editable_headers, payload_bytes
from jstui.format.units import parse_duration
from jstui.nats.errors import SpecErrors, ValidationError
from jstui.nats.headers import parse_header_lines
from jstui.nats.names import subject_problem
from jstui.nats.requests.headers import REPLY_TO_HEADER

__all__ = ["DEFAULT_TIMEOUT", "MAX_TIMEOUT", "RequestMode", "RequestSpec"]

DEFAULT_TIMEOUT = 2.0
MAX_TIMEOUT = 3600.0


class RequestMode(StrEnum):
    REQUEST = "request"
    GATHER = "gather"
    STORED = "stored"


# -- parsing what the user typed ---------------------------------------------------------------


def parse_timeout(text: str) -> float:
    """Seconds from "2", "2s", "500ms", "1m"; must be more than 0 and at most an hour."""
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ValidationError("timeout", str(exc)) from exc
    if seconds is None:
        raise ValidationError("timeout", "a timeout must be more than 0")
    if seconds > MAX_TIMEOUT:
        raise ValidationError("timeout", "at most 1h")
    return seconds


def parse_max_replies(text: str) -> int:
    """N for "until N replies"; "" or 0 means until the timeout."""
    raw = text.strip()
    if not raw:
        return 0
    if not raw.isdigit():
        raise ValidationError("max_replies", "a whole number (empty = until the timeout)")
    return int(raw)


def _format_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class RequestSpec:
    """One request as the form describes it; validated on construction through `from_form`."""

    subject: str
    mode: RequestMode = RequestMode.REQUEST
    payload: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    max_replies: int = 0
    """Gather and stored modes: stop after this many replies (0 = collect until the timeout)."""

    @classmethod
    def from_form(
        cls,
        *,
        subject: str,
        mode: str,
        payload: str = "",
        headers: str = "",
        timeout: str = "2s",
        max_replies: str = "",
        payload_format: str = PayloadFormat.TEXT,
    ) -> RequestSpec:
        """Check every field; raise `SpecErrors` keyed by field name with all problems at once.

        The payload box is read as `payload_format` says (`jstui.format.editable`)."""
        errors: dict[str, str] = {}
        data = b""
        try:
            data = payload_bytes(payload, payload_format)
        except EscapeError as exc:
            errors["payload"] = str(exc)
        except ValueError:
            errors["payload_format"] = "text or escaped"
        subject = subject.strip()
        problem = subject_problem(subject, wildcards=False)
        if problem:
            errors["subject"] = problem
        try:
            request_mode = RequestMode(mode)
        except ValueError:
            errors["mode"] = "request, gather or stored"
            request_mode = RequestMode.REQUEST
        pairs: tuple[tuple[str, str], ...] = ()
        try:
            pairs = parse_header_lines(headers)
        except ValueError as exc:
            errors["headers"] = str(exc)
        if request_mode is RequestMode.STORED and any(
            key.lower() == REPLY_TO_HEADER for key, _ in pairs
        ):
            errors["headers"] = "stored mode sets reply-to itself (to jstui's inbox)"
        seconds = DEFAULT_TIMEOUT
        try:
            seconds = parse_timeout(timeout)
        except ValidationError as exc:
            errors["timeout"] = exc.message
        limit = 0
        try:
            limit = parse_max_replies(max_replies)
        except ValidationError as exc:
            errors["max_replies"] = exc.message
        if errors:
            raise SpecErrors(errors)
        return cls(
            subject=subject,
            mode=request_mode,
            payload=data,
            headers=pairs,
            timeout=seconds,
            max_replies=limit,
        )

    @property
    def timeout_text(self) -> str:
        return _format_seconds(self.timeout)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "subject": self.subject,
            "mode": self.mode.value,
            "headers": [list(pair) for pair in self.headers],
            "timeout": self.timeout,
            "max_replies": self.max_replies,
        }
        try:
            data["payload"] = self.payload.decode("utf-8")
        except UnicodeDecodeError:
            data["payload_base64"] = base64.b64encode(self.payload).decode("ascii")
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestSpec:
        """Read back `to_json`; raises `ValueError` (with the field) on anything unexpected."""
        subject = data.get("subject")
        if not isinstance(subject, str) or subject_problem(subject, wildcards=False):
            raise ValueError("subject: missing or invalid")
        mode = RequestMode(str(data.get("mode", "request")))
        if "payload_base64" in data:
            payload = base64.b64decode(str(data["payload_base64"]), validate=True)
        else:
            text = data.get("payload", "")
            if not isinstance(text, str):
                raise ValueError("payload: not text")
            payload = text.encode("utf-8", "surrogatepass")
        raw_headers = data.get("headers", [])
        if not isinstance(raw_headers, list):
            raise ValueError("headers: not a list")
        headers = parse_header_lines(
            editable_headers((str(pair[0]), str(pair[1])) for pair in raw_headers if len(pair) == 2)
        )
        timeout = float(data.get("timeout", DEFAULT_TIMEOUT))
        if not 0 < timeout <= MAX_TIMEOUT:
            raise ValueError("timeout: out of range")
        max_replies = int(data.get("max_replies", 0))
        if max_replies < 0:
            raise ValueError("max_replies: negative")
        return cls(subject, mode, payload, headers, timeout, max_replies)
