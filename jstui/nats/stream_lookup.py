"""Which stream captures a subject: `find_stream`, and `wait_for_stream` for start-up objects.

A JetStream feed, a stored responder and a JetStream worker pool all need the stream that
captures their subject. The dialogs look it up once (`find_stream`) and say so under the field
when there is none. The objects given on the command line (`--feed`, `--responder`, `--workers`)
cannot ask anyone: they wait for the stream instead (`wait_for_stream`), asking the JetStream API
again with a growing pause, and tell their pane once that they are waiting. This is the one way
a start-up object waits for its stream; the panes show "waiting for a stream on SUBJECT" meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import nats.errors
import nats.js.errors

from jstui.nats.errors import NoStreamError, NotConnectedError, RequestTimeoutError, translate
from jstui.nats.session import Session

__all__ = ["WAIT_FIRST", "WAIT_MAX", "find_stream", "wait_for_stream", "waiting_text"]

WAIT_FIRST = 0.5
"""Seconds before the first new look-up; each miss doubles the pause up to `WAIT_MAX`."""
WAIT_MAX = 3.0
"""Longest pause between look-ups: a stream created by hand is picked up within seconds, at the
cost of one small JetStream API request per waiting object every few seconds."""


async def find_stream(session: Session, subject: str) -> str:
    """The stream that captures `subject` (wildcards allowed); `NoStreamError` when none does."""
    try:
        return await session.jsm.find_stream_name_by_subject(subject)
    except nats.js.errors.NotFoundError:
        raise NoStreamError(subject) from None
    except (nats.errors.Error, TimeoutError) as error:
        raise translate(error, subject=subject) from error


async def _stream_exists(session: Session, name: str) -> bool:
    try:
        await session.jsm.stream_info(name)
    except nats.js.errors.NotFoundError:
        return False
    except (nats.errors.Error, TimeoutError) as error:
        raise translate(error) from error
    return True


def waiting_text(subject: str, stream: str | None = None) -> str:
    """What a pane shows while a start-up object waits."""
    if stream:
        return f"waiting for stream {stream} (for {subject})"
    return f"waiting for a stream on {subject}"


async def wait_for_stream(
    session: Session,
    subject: str,
    *,
    stream: str | None = None,
    waiting: Callable[[str], None] | None = None,
) -> str:
    """Return the stream named `stream` (or the one that captures `subject`) once it exists.

    Until then ask again after `WAIT_FIRST`, doubling up to `WAIT_MAX` seconds, and call
    `waiting(text)` once, on the first miss. A lost connection is waited out the same way (the
    session reconnects on its own); any other error (JetStream disabled, a refused API call)
    is raised.
    """
    pause = WAIT_FIRST
    told = False
    while True:
        try:
            if stream:
                if await _stream_exists(session, stream):
                    return stream
            else:
                return await find_stream(session, subject)
        except (NoStreamError, NotConnectedError, RequestTimeoutError):
            pass  # not there yet, or the connection is being restored: ask again later
        if not told and waiting is not None:
            waiting(waiting_text(subject, stream))
            told = True
        await asyncio.sleep(pause)
        pause = min(pause * 2, WAIT_MAX)
