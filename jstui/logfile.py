"""The `--log FILE` debug log: where it is opened, what goes in, and the secrets kept out.

jstui logs with the standard `logging` module under the `jstui` logger hierarchy:
`jstui.nats.session` (connects, state changes, client errors), `jstui.nats.calllog` (each
`$JS.`/`$SYS.` API request: subject, outcome, latency), `jstui.nats.observe` (each monitoring
request), `jstui.cli` (start-up). nats-py's own `nats` logger goes to the same file: its read loop
reports the errors that end it there. Nothing is set up without `--log`, so no handler, no cost.

`start_log` (called by `cli.main`, before the UI) opens the file in append mode and attaches one
handler to those loggers. Its `SecretFilter` is the last line of defence: every record's text, and
its traceback, passes through `jstui.format.redact.redact_secrets` with the settings' literal
secrets, whatever the code that logged it did. Bodies of requests and replies are payloads: their
logger (`jstui.nats.calllog.PAYLOADS`) stays off unless `--log-payloads`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from jstui import __version__
from jstui.config import ConfigError, Settings
from jstui.config.settings import error_reason
from jstui.format.redact import redact_secrets, redact_url

LOGGERS = ("jstui", "nats")
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class SecretFilter(logging.Filter):
    """Masks secrets in a record's message, arguments, traceback and stack before it is written."""

    def __init__(self, known: Iterable[str]) -> None:
        super().__init__()
        self._known = tuple(known)
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_secrets(record.getMessage(), self._known)
        record.args = None
        if record.exc_info and not record.exc_text:
            # The formatter uses a traceback text already present instead of rendering its own.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text, self._known)
        if record.stack_info:
            record.stack_info = redact_secrets(record.stack_info, self._known)
        return True


def start_log(settings: Settings) -> Callable[[], None]:
    """Open `settings.log_file` and route jstui's and nats-py's loggers to it; returns the function
    that closes it. Without a log file, nothing is set up. Raises `ConfigError` when the file
    cannot be opened."""
    path = settings.log_file
    if path is None:
        return lambda: None
    from jstui.nats.calllog import PAYLOADS  # loads nats-py: only with a log file

    handler = _open(path)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(SecretFilter(settings.secret_values()))
    saved = [(logging.getLogger(name), logging.getLogger(name).level) for name in LOGGERS]
    for logger, _level in saved:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    payload_level = PAYLOADS.level
    if settings.log_payloads:
        PAYLOADS.setLevel(logging.DEBUG)
    logging.getLogger("jstui.cli").info(
        "jstui %s: servers %s, context %s, auth %s, read-only %s, payloads %s",
        __version__,
        redact_url(", ".join(settings.servers)) or "embedded",
        settings.context or "none",
        settings.describe_auth(),
        settings.read_only,
        "logged" if settings.log_payloads else "not logged",
    )

    def stop() -> None:
        for logger, level in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
        PAYLOADS.setLevel(payload_level)
        handler.close()

    return stop


def _open(path: Path) -> logging.FileHandler:
    try:
        return logging.FileHandler(path, mode="a", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--log: cannot write {path}: {error_reason(exc)}") from exc
