"""Dead letters: the messages a consumer gave up on, with the original fetched without consuming.

A message becomes a dead letter when a consumer reached its `max_deliver` for it
(`CONSUMER.MAX_DELIVERIES` advisory) or a client terminated it (`+TERM`, the
`CONSUMER.MSG_TERMINATED` advisory). Neither advisory carries the message, only its stream
sequence, so `DeadLetters` reads the original from the stream by sequence through
`StreamService.get_message` (direct get when the stream allows it, else
`$JS.API.STREAM.MSG.GET`), which never consumes (nats-notes §10). A message that limits, a purge
or a work-queue ack removed since is "no longer in the stream"; that answer is cached as well.

Data flow: `AdvisoryWatch` appends dead-letter advisories to its own deque on the message path;
`DeadLetters.dead_letters()` turns them into `DeadLetter`s (newest last), and `original()` /
`fetch_missing()` fill a bounded cache of originals, keyed by (stream, sequence), off the
message path. The Events pane and the Workers pane read the same `DeadLetters`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from jstui.nats.errors import (
    ERR_NO_MESSAGE_FOUND,
    ERR_STREAM_NOT_FOUND,
    JstuiError,
    ServerAPIError,
)
from jstui.nats.observe.advisories import MAX_DELIVERIES, Advisory, AdvisoryWatch
from jstui.nats.streams.service import StreamService
from jstui.nats.streams.summaries import StoredMessage

__all__ = ["GONE", "DeadLetter", "DeadLetters", "Original", "dead_letter_from"]

ORIGINALS_CACHED = 512
"""Originals (found or gone) kept in memory; the least recently used go first."""
FETCH_BATCH = 20
"""Originals `fetch_missing` reads in one call at most."""
GONE = "no longer in the stream"
STREAM_GONE = "the stream no longer exists"

WHY_MAX_DELIVERIES = "max deliveries"
WHY_TERMINATED = "terminated"


@dataclass(frozen=True)
class DeadLetter:
    """One message a consumer gave up on. Names are untrusted (sanitize before display)."""

    index: int
    """The advisory's index in the watch: a stable key for table rows."""
    received: float
    stream: str
    consumer: str
    stream_seq: int | None
    deliveries: int | None
    why: str
    """``max deliveries`` or ``terminated``."""
    reason: str = ""
    """The reason a client gave with its `term()`, if any."""
    advisory: Advisory | None = None

    @property
    def key(self) -> tuple[str, int] | None:
        """Where the original is: (stream, sequence), or None when the advisory did not say."""
        if not self.stream or self.stream_seq is None or self.stream_seq < 1:
            return None
        return (self.stream, self.stream_seq)


def dead_letter_from(advisory: Advisory) -> DeadLetter:
    why = WHY_MAX_DELIVERIES if advisory.kind == MAX_DELIVERIES else WHY_TERMINATED
    return DeadLetter(
        index=advisory.index,
        received=advisory.received,
        stream=advisory.stream,
        consumer=advisory.consumer,
        stream_seq=advisory.stream_seq,
        deliveries=advisory.deliveries,
        why=why,
        reason=advisory.reason,
        advisory=advisory,
    )


@dataclass(frozen=True)
class Original:
    """The original message of a dead letter, or why there is none (`problem`)."""

    message: StoredMessage | None
    problem: str = ""


class DeadLetters:
    """The dead letters seen by `watch`, and their originals read through `streams`."""

    def __init__(
        self, watch: AdvisoryWatch, streams: StreamService, *, cached: int = ORIGINALS_CACHED
    ) -> None:
        self.watch = watch
        self.streams = streams
        self._cached = cached
        self._originals: OrderedDict[tuple[str, int], Original] = OrderedDict()
        self._letters: dict[int, DeadLetter] = {}

    def dead_letters(
        self, stream: str | None = None, consumer: str | None = None
    ) -> list[DeadLetter]:
        """The dead letters still held (oldest first), of `stream` and `consumer` when given."""
        held = self.watch.dead_letter_advisories
        letters: list[DeadLetter] = []
        known = self._letters
        for advisory in held:
            letter = known.get(advisory.index)
            if letter is None:
                letter = known[advisory.index] = dead_letter_from(advisory)
            if (stream is None or letter.stream == stream) and (
                consumer is None or letter.consumer == consumer
            ):
                letters.append(letter)
        if len(known) > 2 * (held.maxlen or len(held)):  # forget what the deque let go
            first = held[0].index if held else 0
            self._letters = {i: letter for i, letter in known.items() if i >= first}
        return letters

    def cached_original(self, letter: DeadLetter) -> Original | None:
        """The original if it was read already (or found gone), else None; no I/O."""
        key = letter.key
        if key is None:
            return Original(None, "the advisory names no stream sequence")
        original = self._originals.get(key)
        if original is not None:
            self._originals.move_to_end(key)
        return original

    async def original(self, letter: DeadLetter) -> Original:
        """The original message, read by sequence without consuming (cached).

        A message removed since, or a stream deleted since, comes back as an `Original` with a
        `problem`; other failures (timeout, no connection) raise `JstuiError` and are not cached,
        so a later call tries again.
        """
        cached = self.cached_original(letter)
        if cached is not None:
            return cached
        key = letter.key
        assert key is not None  # cached_original answers for letters without one
        stream, seq = key
        try:
            message = await self.streams.get_message(stream, seq)
            original = Original(message)
        except ServerAPIError as error:
            if error.err_code == ERR_NO_MESSAGE_FOUND:
                original = Original(None, GONE)
            elif error.err_code == ERR_STREAM_NOT_FOUND:
                original = Original(None, STREAM_GONE)
            else:
                raise
        except JstuiError as error:
            if getattr(error, "field", None) in ("name", "sequence"):
                # a name no API subject can carry (a hand-made advisory): never fetchable
                original = Original(None, f"cannot be read: {error}")
            else:
                raise
        self._remember(key, original)
        return original

    def _remember(self, key: tuple[str, int], original: Original) -> None:
        self._originals[key] = original
        self._originals.move_to_end(key)
        while len(self._originals) > self._cached:
            self._originals.popitem(last=False)

    async def fetch_missing(self, limit: int = FETCH_BATCH) -> int:
        """Read the originals not read yet, newest first, at most `limit`; how many were read.
        Stops at the first failure that is not about one message (the server is away)."""
        fetched = 0
        for letter in reversed(self.dead_letters()):
            if fetched >= limit:
                break
            if self.cached_original(letter) is not None:
                continue
            await self.original(letter)
            fetched += 1
        return fetched

    def missing(self) -> int:
        """How many held dead letters have no original read yet."""
        return sum(1 for letter in self.dead_letters() if self.cached_original(letter) is None)
