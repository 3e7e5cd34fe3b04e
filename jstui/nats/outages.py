"""Why the connection was lost, told to the session so that the status line can say it.

Two causes jstui can know for sure:
- `EmbeddedWatch`: the `nats-server` jstui started itself exited (killed, crashed). Nothing else
  would notice: nats-py only sees "connection refused" forever. The watch says so at once and
  starts the server again on the same store, port and config; the session then reconnects by
  itself and the streams are all there.
- `explain_closed_connection`: once the connection is back, the server's list of closed
  connections says why it closed the old one ("Slow Consumer (Write Deadline)", "Stale
  Connection", ...), asked through the `Observer` (system account or monitoring), never guessed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from jstui.nats.embedded import EmbeddedServer, EmbeddedServerError
from jstui.nats.errors import JstuiError
from jstui.nats.session import Session

if TYPE_CHECKING:
    from jstui.nats.observe.observer import Observer

__all__ = ["EmbeddedWatch", "describe_exit", "explain_closed_connection"]

_log = logging.getLogger(__name__)

CHECK_SECONDS = 0.5
"""Where a process cannot be waited for (no pidfd: not Linux), how often it is looked at."""
RETRY_SECONDS = 5.0
"""The wait before trying again when a restart failed (the port taken, the store locked)."""


def describe_exit(code: int) -> str:
    """How a process ended, in words: ``killed by SIGKILL``, ``exited with code 1``."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class EmbeddedWatch:
    """Restart jstui's own `nats-server` when it exits on its own; say what happened.

    `run()` is a loop for the app to run as a worker while it lives; `stop()` or `kill()` of the
    server (quitting, tests) are not deaths: `exit_code` is None then.
    """

    def __init__(
        self,
        server: EmbeddedServer,
        session: Session,
        *,
        check_seconds: float = CHECK_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.server = server
        self.session = session
        self.check_seconds = check_seconds
        self.retry_seconds = retry_seconds
        self.restarts = 0
        self.on_change: Callable[[str], None] | None = None
        """Called with each new thing to say (tests and the log read it too)."""

    def _say(self, text: str) -> None:
        _log.warning("%s", text)
        self.session.explain_outage(text)
        if self.on_change is not None:
            self.on_change(text)

    async def run(self) -> None:
        while True:
            await self._until_it_may_have_ended()
            code = self.server.exit_code
            if code is not None:
                await self._restart(code)

    async def _until_it_may_have_ended(self) -> None:
        """Return when the server's process ended, waiting on a pidfd (readable once its process
        exits) so that an idle jstui is not woken twice a second to look; elsewhere, or when
        there is no process to wait for (stopped on purpose), after `check_seconds`."""
        pid = self.server.pid
        pidfd_open = getattr(os, "pidfd_open", None)
        if pid is None or pidfd_open is None or not self.server.running:
            await asyncio.sleep(self.check_seconds)
            return
        try:
            fd = pidfd_open(pid)
        except OSError:  # gone between the two lines, or a kernel without pidfds
            await asyncio.sleep(self.check_seconds)
            return
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            if not ended.done():
                ended.set_result(None)

        loop.add_reader(fd, readable)
        try:
            await ended
        finally:
            loop.remove_reader(fd)
            os.close(fd)

    async def _restart(self, code: int) -> None:
        died = f"embedded nats-server {describe_exit(code)}"
        self._say(f"{died}: restarting it on the same store")
        while True:
            try:
                await asyncio.to_thread(self.server.restart)
            except (EmbeddedServerError, OSError) as error:
                self._say(f"{died}: restart failed ({error}); trying again")
                await asyncio.sleep(self.retry_seconds)
                continue
            self.restarts += 1
            self._say(f"{died}, restarted on the same store")
            return


async def explain_closed_connection(session: Session, observer: Observer) -> str:
    """Ask the server why it closed the connection the session lost last; tell the session.

    Returns the reason ('' when no source knows it: no system account and no monitoring, or
    the server that closed it has restarted since)."""
    server, cid = session.lost_client
    if cid is None:
        return ""
    try:
        view = await observer.connections(closed=True, cid=cid, subscriptions=False)
    except JstuiError as error:
        _log.info("why the connection closed is not known: %s", error)
        return ""
    reasons = [
        conn.reason
        for conn in view.connections
        if conn.cid == cid and conn.reason and (not server or conn.server == server)
    ]
    if not reasons:
        return ""
    reason = f"closed by the server: {reasons[-1]}"
    session.explain_last_outage(reason)
    return reason
