"""Ending jstui on SIGTERM and SIGHUP within two seconds, whatever the UI is doing.

A signal asks the app to quit the ordinary way (the connection drains, the caller stops the
embedded server) and arms a deadline. The ordinary way can hang: when the terminal stops reading
(closed, or a stuck emulator) during a flood, Textual's writer thread blocks on the full pty, the
UI's bounded write queue fills, and the event loop blocks behind it. The deadline runs on a thread
of its own, so it fires even then: it stops the embedded server (removing a temporary store) and
ends the process.

The handlers are Python-level (`signal.signal`), not the event loop's: those run only when the
loop gets around to them, and a blocked loop never does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from textual.app import App

from jstui.nats.embedded import EmbeddedServer

GRACE_SECONDS = 1.5
"""How long the ordinary quit may take before the process is ended anyway (the promise is 2 s)."""
SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def end_on_signals(app: App[Any], embedded: EmbeddedServer | None) -> Callable[[], None]:
    """Install the handlers for the app's run; returns a function that puts the old ones back."""
    armed = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        if not armed.is_set():
            armed.set()
            deadline = threading.Timer(GRACE_SECONDS, _force_exit, (signum, embedded))
            deadline.daemon = True
            deadline.start()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # the app is not running (yet, or any more): the deadline ends the process
        loop.call_soon_threadsafe(app.exit)

    previous = {signum: signal.signal(signum, handle) for signum in SIGNALS}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def _force_exit(signum: int, embedded: EmbeddedServer | None) -> None:
    if embedded is not None:
        with contextlib.suppress(Exception):
            embedded.stop(timeout=0.2)
    os._exit(128 + signum)
