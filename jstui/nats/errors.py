"""Typed errors raised by the service layer.

Widgets catch `JstuiError` and show `str(error)`: every message is one short line that says what
failed and why. JetStream errors keep the server's `err_code` (the stable identifier; `code` is
shared by many unrelated errors) and its description. This module imports nothing heavy: the
configuration layer and `jstui --help` import it before anything else is loaded.
"""

from __future__ import annotations

# JetStream err_codes jstui reacts to (nats-server server/errors.json).
ERR_STREAM_NOT_FOUND = 10059
ERR_CONSUMER_NOT_FOUND = 10014
ERR_NO_MESSAGE_FOUND = 10037
ERR_STREAM_NAME_IN_USE = 10058
ERR_SUBJECTS_OVERLAP = 10065
ERR_STREAM_INVALID_CONFIG = 10052
ERR_REPLICAS_NOT_SUPPORTED = 10074
ERR_INSUFFICIENT_STORAGE = 10047
ERR_INSUFFICIENT_MEMORY = 10028


class JstuiError(Exception):
    """Base of every error the service layer raises on purpose."""


class ReadOnlyError(JstuiError):
    """A change was asked for while jstui runs with --read-only."""

    def __init__(self, action: str, reason: str = "") -> None:
        because = f": {reason}" if reason else ""
        super().__init__(f"read-only mode: {action} is not allowed{because}")
        self.action = action
        self.reason = reason


class ValidationError(JstuiError):
    """User input that cannot be sent to the server; `field` names the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SpecErrors(JstuiError):
    """Several validation errors at once, keyed by field, so a form can mark every bad field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class ConnectError(JstuiError):
    """The connection could not be made (unreachable server, refused credentials, no JetStream)."""


class NotConnectedError(JstuiError):
    """An operation was asked for while there is no usable connection."""


class NoStreamError(JstuiError):
    """A JetStream publish found no stream capturing the subject."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"no stream captures subject {subject!r}")
        self.subject = subject


class JetStreamUnavailableError(JstuiError):
    """JetStream is not enabled for this account or server."""


class RequestTimeoutError(JstuiError):
    """A request or API call got no answer in time."""


class NoRespondersError(JstuiError):
    """A core request found nobody subscribed to its subject."""


class ServerAPIError(JstuiError):
    """The JetStream API refused a call; `err_code` tells the cases apart."""

    def __init__(self, description: str, *, code: int | None, err_code: int | None) -> None:
        super().__init__(description)
        self.description = description
        self.code = code
        self.err_code = err_code


def translate(exc: BaseException, *, subject: str | None = None) -> JstuiError:
    """Turn a nats-py or asyncio exception into a typed, one-line `JstuiError`."""
    if isinstance(exc, JstuiError):
        return exc
    # Imported here, not at the top: the configuration layer raises these errors too, and
    # `jstui --help` or a usage error must not load nats-py (nats-py is loaded by the time
    # anything has a nats-py exception to translate).
    import nats.errors
    import nats.js.errors

    if isinstance(exc, nats.js.errors.NoStreamResponseError):
        return NoStreamError(subject or "?")
    if isinstance(exc, nats.js.errors.ServiceUnavailableError) and exc.err_code is None:
        return JetStreamUnavailableError("JetStream is not available (not enabled, or no leader)")
    if isinstance(exc, nats.js.errors.APIError):
        description = exc.description or type(exc).__name__
        return ServerAPIError(description, code=exc.code, err_code=exc.err_code)
    if isinstance(exc, nats.errors.NoRespondersError):
        return NoRespondersError(f"no responders on {subject!r}" if subject else "no responders")
    if isinstance(exc, nats.errors.ConnectionClosedError | nats.errors.ConnectionReconnectingError):
        return NotConnectedError("not connected to the server")
    if isinstance(exc, nats.errors.NoServersError):
        return NotConnectedError("no server is reachable")
    # asyncio.TimeoutError is TimeoutError since Python 3.11 (and asyncio is a slow import)
    if isinstance(exc, TimeoutError | nats.errors.TimeoutError):
        return RequestTimeoutError("timed out waiting for the server")
    if isinstance(exc, nats.errors.BadSubjectError):
        return ValidationError("subject", "invalid subject")
    if isinstance(exc, nats.errors.MaxPayloadError):
        return ValidationError("payload", "payload is larger than the server's max_payload")
    if isinstance(exc, nats.errors.BadHeaderError):
        return ValidationError("headers", "invalid header")
    if isinstance(exc, ValueError):
        return ValidationError("input", str(exc).removeprefix("nats: "))
    text = str(exc).removeprefix("nats: ") or type(exc).__name__
    return JstuiError(text)
