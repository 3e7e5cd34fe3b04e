"""Stream messages to and from NDJSON files: `NdjsonExport` writes a range of sequences,
`NdjsonImport` publishes such a file back into a stream.

The format: one JSON object per line, UTF-8, each line ended by ``\\n``::

    {"seq": 17, "subject": "orders.eu", "time": "2026-12-03T21:50:01.123456Z",
     "headers": {"Nats-Msg-Id": "o-17"}, "data": "aGVsbG8=", "text": "hello"}

- ``seq``: the message's sequence in the stream it was read from (an import does not keep it: the
  target stream numbers what it stores);
- ``subject``: the subject it was stored on (an import publishes to it);
- ``time``: when the server stored it, RFC 3339 in UTC (informative, not restored);
- ``headers``: an object of header name -> value, or ``null`` when the message had none;
- ``data``: the payload, base64 (standard alphabet, padded); always there, and what an import sends;
- ``text``: the same payload as a string, only when it is valid UTF-8 (for reading and grep; an
  import ignores it, except on a hand-written line that has no ``data``).

The import also takes the Feeds pane's export lines (``payload`` with ``payload_encoding``
``utf-8`` or ``base64`` instead of ``data``), so a feed captured live can be stored in a stream.

Export reads by sequence (`StreamService.next_message`: one request per message, deleted and
non-matching sequences skipped by the server), never through a consumer, and writes each line as it
comes. Import reads the file a line at a time (a line longer than `max_line` is reported, not read
whole), so memory stays bounded whatever the file's size; reading, parsing and checking happen in a
worker thread a block of lines at a time, and the sending lets the event loop in every few
milliseconds whatever the lines come to, so the UI stays live through a file of refused lines. It
publishes through `BulkPublish`'s acknowledgement accounting (acked, duplicates, failed, unknown)
and reports each bad or refused line by its number. Blank lines are skipped. A line whose subject
the target stream's subjects do not capture is refused before sending (it would land in another
stream, or nowhere); nats-py's "expected stream" header would check the same on the server, but the
server stores that header with the message, and a round trip must give back the headers it
exported.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from nats.js.api import PubAck

from jstui.format.text import sanitize
from jstui.format.units import counted
from jstui.nats.errors import JstuiError, translate
from jstui.nats.headers import header_problem
from jstui.nats.names import subject_matches, subject_problem
from jstui.nats.publish import BulkPublish, PublishMode, PublishSpec
from jstui.nats.session import Session
from jstui.nats.streams.service import StreamService
from jstui.nats.streams.summaries import StoredMessage

__all__ = [
    "MAX_PROBLEMS",
    "ImportRecord",
    "NdjsonExport",
    "NdjsonImport",
    "message_line",
    "parse_line",
]

MAX_PROBLEMS = 1_000
"""Bad or refused lines reported one by one; past this they are only counted."""
BLOCK_LINES = 1_000
BLOCK_BYTES = 1 << 20
"""An import reads, parses and checks lines in a worker thread, up to this many at a time."""
YIELD_AFTER = 0.005
"""Seconds an import may hold the event loop before it lets keys and frames in."""


def message_line(message: StoredMessage) -> str:
    """One message as one NDJSON line (with its ``\\n``)."""
    record: dict[str, Any] = {
        "seq": message.seq,
        "subject": message.subject,
        "time": message.time.isoformat().replace("+00:00", "Z") if message.time else None,
        "headers": dict(message.headers) if message.headers else None,
        "data": base64.b64encode(message.data).decode("ascii"),
    }
    with contextlib.suppress(UnicodeDecodeError):
        record["text"] = message.data.decode("utf-8")
    # ASCII only: a subject or header decoded with surrogate escapes still makes valid UTF-8.
    return json.dumps(record) + "\n"


@dataclass(frozen=True)
class ImportRecord:
    """What one line publishes."""

    subject: str
    data: bytes
    headers: dict[str, str] | None


def parse_line(line: bytes | str) -> ImportRecord:
    """The message one NDJSON line describes; `ValueError` says what is wrong with it."""
    try:
        record = json.loads(line)
    except ValueError as error:
        raise ValueError(f"not JSON ({error})") from None
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    subject = record.get("subject")
    if not isinstance(subject, str) or not subject:
        raise ValueError('no "subject" string')
    if problem := subject_problem(subject, wildcards=False):
        raise ValueError(f"subject: {problem}")
    data = record.get("data")
    if isinstance(data, str):
        try:
            payload = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError('"data" is not base64') from None
    elif data is None and isinstance(record.get("text"), str):
        payload = record["text"].encode("utf-8", "surrogateescape")
    elif data is None and isinstance(record.get("payload"), str):
        payload = _feed_payload(record["payload"], record.get("payload_encoding"))
    else:
        raise ValueError('no "data" (base64) nor "text" string')
    headers = record.get("headers")
    if headers is not None and not (
        isinstance(headers, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    ):
        raise ValueError('"headers" is not an object of strings')
    for key, value in (headers or {}).items():
        if problem := header_problem(key, value):
            raise ValueError(f"header {key!r}: {problem}")
    return ImportRecord(subject, payload, dict(headers) if headers else None)


def _feed_payload(payload: str, encoding: object) -> bytes:
    """The payload of a line the Feeds pane exported (``payload`` with ``payload_encoding``)."""
    if encoding == "base64":
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError('"payload" is not base64') from None
    return payload.encode("utf-8", "surrogateescape")


class NdjsonExport:
    """Write the messages of `stream` from `first` to `last` (on `subject`, wildcards allowed) to
    a new file at `path`; read the counters from a timer while `run()` goes on."""

    def __init__(
        self,
        service: StreamService,
        stream: str,
        path: Path,
        *,
        first: int,
        last: int,
        subject: str | None = None,
    ) -> None:
        self.service = service
        self.stream = stream
        self.path = path
        self.first = max(1, first)
        self.last = last
        self.subject = subject
        self.written = 0
        self.bytes = 0
        self.position = self.first
        """The next sequence to look at."""
        self.done = False
        self.cancelled = False
        self.error = ""

    @property
    def progress(self) -> float:
        span = self.last - self.first + 1
        return 1.0 if span <= 0 or self.done else (self.position - self.first) / span

    def cancel(self) -> None:
        self.cancelled = True

    def describe(self) -> str:
        written = f"{counted(self.written, 'message')}, {counted(self.bytes, 'byte')}"
        text = f"{written} written to {self.path}"
        if self.done:
            text += " (cancelled)" if self.cancelled else " (done)"
        return text

    async def run(self) -> None:
        """Export; a file that already exists is never overwritten. Errors end up in `error`
        (and raise, as `JstuiError`), with the lines written so far kept."""
        try:
            with self.path.open("x", encoding="utf-8", newline="\n") as out:
                await self._write_all(out)
        except FileExistsError:
            self.error = f"{self.path} already exists (an export never overwrites a file)"
            raise JstuiError(self.error) from None
        except OSError as error:
            self.error = f"cannot write {self.path}: {error.strerror or error}"
            raise JstuiError(self.error) from None
        except JstuiError as error:
            self.error = str(error)
            raise
        finally:
            self.done = True

    async def _write_all(self, out: IO[str]) -> None:
        while not self.cancelled and self.position <= self.last:
            message = await self.service.next_message(
                self.stream, self.position, subject=self.subject
            )
            if message is None or message.seq > self.last:
                self.position = self.last + 1
                return
            line = message_line(message)
            out.write(line)
            self.written += 1
            self.bytes += len(line)
            self.position = message.seq + 1


def _count_lines(path: Path) -> int:
    """Lines in the file (a last line without ``\\n`` counts), read a MiB at a time."""
    lines = 0
    last = b"\n"
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def _lines(source: IO[bytes], max_line: int) -> Iterator[bytes | None]:
    """Each line of `source` without its ``\\n``; None for a line longer than `max_line`, of which
    no more than `max_line` bytes are ever held."""
    while line := source.readline(max_line + 1):
        if len(line) > max_line and not line.endswith(b"\n"):
            while (rest := source.readline(max_line)) and not rest.endswith(b"\n"):
                pass  # skip the rest of the long line
            yield None
        else:
            yield line.rstrip(b"\r\n")


Outcome = ImportRecord | str | None
"""What one line of an import comes to: a message to publish, the reason it is refused, or None
for a blank line."""


class _LineReader:
    """Reads, parses and checks the lines of an import in blocks, each block in a worker thread
    (`asyncio.to_thread`): a file of a million refused lines, or one line of a gigabyte, must not
    hold the event loop. A block ends at `BLOCK_LINES` lines or `BLOCK_BYTES` bytes read."""

    def __init__(
        self, source: IO[bytes], *, max_line: int, stream: str, subjects: tuple[str, ...]
    ) -> None:
        self._lines = _lines(source, max_line)
        self._max_line = max_line
        self._stream = stream
        self._subjects = subjects
        self._number = 0

    def block(self) -> list[tuple[int, Outcome]]:
        """The next lines with their numbers and outcomes; empty at the end of the file."""
        block: list[tuple[int, Outcome]] = []
        size = 0
        while len(block) < BLOCK_LINES and size < BLOCK_BYTES:
            try:
                line = next(self._lines)
            except StopIteration:
                break
            self._number += 1
            size += len(line) if line is not None else self._max_line
            block.append((self._number, self._outcome(line)))
        return block

    def _outcome(self, line: bytes | None) -> Outcome:
        if line is None:
            return f"longer than {self._max_line:,} bytes"
        if not line.strip():
            return None
        try:
            record = parse_line(line)
        except ValueError as error:
            return str(error)
        if not any(subject_matches(own, record.subject) for own in self._subjects):
            return f"stream {self._stream} does not capture its subject"
        return record


class NdjsonImport(BulkPublish):
    """Publish every line of an NDJSON file into `stream`; a message's number is its line number.

    Build it with `NdjsonImport.open` (it counts the lines first, for the progress bar). The
    counters are `BulkPublish`'s (acked, duplicates, failed, unknown, add up to `sent`), plus
    `bad_lines` (not sent: the line is not a message) and `blank_lines`; `problems` holds the
    first `MAX_PROBLEMS` (line number, reason) of bad and refused lines, in order once `done`.
    """

    def __init__(
        self,
        session: Session,
        stream: str,
        path: Path,
        *,
        lines: int,
        subjects: tuple[str, ...],
    ) -> None:
        # The spec only names the run for its error messages: each line brings its own message.
        spec = PublishSpec(subject=stream, mode=PublishMode.JETSTREAM, count=max(1, lines))
        super().__init__(session, spec, numbers=range(1, lines + 1))
        self.stream = stream
        self.path = path
        self.subjects = subjects
        """The target stream's subjects: a line on any other subject is refused before sending."""
        self.max_line = 4 * max(1, session.nc.max_payload) + 64 * 1024
        """Longer lines cannot hold a payload the server accepts (base64 plus text)."""
        self.bad_lines = 0
        self.blank_lines = 0
        self.problems: list[tuple[int, str]] = []

    @classmethod
    async def open(
        cls, session: Session, service: StreamService, stream: str, path: Path
    ) -> NdjsonImport:
        """An import of the file at `path` into `stream`; read-only mode refuses it here, and a
        stream that captures no subject (a mirror, say) is refused too."""
        session.check_writable("import into a stream")
        subjects = (await service.summary(stream)).subjects
        if not subjects:
            raise JstuiError(
                f"stream {sanitize(stream)!r} has no subjects: nothing can be published into it"
            )
        try:
            lines = await asyncio.to_thread(_count_lines, path)
        except OSError as error:
            raise JstuiError(f"cannot read {path}: {error.strerror or error}") from None
        return cls(session, stream, path, lines=lines, subjects=subjects)

    @property
    def finished_lines(self) -> int:
        """Lines whose outcome is known: answered, bad or blank."""
        answered = self.acked + self.duplicates + self.failed + (self.unknown if self.done else 0)
        return answered + self.bad_lines + self.blank_lines

    @property
    def progress(self) -> float:
        return min(1.0, self.finished_lines / self.total) if self.total else 1.0

    def describe(self) -> str:
        parts = [f"{self.finished_lines:,}/{self.total:,} lines", f"{self.acked:,} stored"]
        if self.duplicates:
            parts.append(f"{self.duplicates:,} already stored (duplicate message id)")
        if self.failed:
            parts.append(f"{self.failed:,} refused")
        if self.unknown:
            parts.append(f"{self.unknown:,} unknown (no ack: may or may not be stored)")
        if self.bad_lines:
            parts.append(f"{self.bad_lines:,} bad lines")
        if self.in_flight and not self.done:
            parts.append(f"{self.in_flight:,} awaiting ack")
        if self.elapsed > 0:
            parts.append(f"{self.average_rate():,.0f} msgs/s")
        if self.done:
            parts.append("cancelled" if self.cancelled else "done")
        return ", ".join(parts)

    def _problem(self, number: int, reason: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((number, reason))

    def _on_ack(self, future: asyncio.Future[PubAck]) -> None:
        number = self._in_flight.get(future)
        if number is not None and future.done() and not future.cancelled():
            error = future.exception()
            if error is not None:
                self._problem(number, str(translate(error)))
        super()._on_ack(future)

    async def run(self) -> None:
        try:
            await super().run()
        except OSError as error:
            self.error = f"cannot read {self.path}: {error.strerror or error}"
        finally:
            for number in self.unacknowledged:
                if len(self.problems) >= MAX_PROBLEMS:
                    break
                if not any(line == number for line, _ in self.problems):
                    self._problem(number, "no acknowledgement: may or may not be stored")
            self.problems.sort()

    async def _send_all(self) -> None:
        js = self.session.js
        with self.path.open("rb") as source:
            reader = _LineReader(
                source, max_line=self.max_line, stream=self.stream, subjects=self.subjects
            )
            while block := await asyncio.to_thread(reader.block):
                since_yield = time.perf_counter()
                for number, outcome in block:
                    if self._cancel.is_set():
                        return
                    if self.stream_lost_at:
                        await self._wait_for_stream()
                    if outcome is None:
                        self.blank_lines += 1
                    elif isinstance(outcome, str):
                        self.bad_lines += 1
                        self._problem(number, outcome)
                    elif await self._publish_js(
                        js, number, outcome.subject, outcome.data, outcome.headers
                    ):
                        self.sent += 1
                        self.meter.add(1, len(outcome.data))
                    else:
                        return  # cancelled while waiting for room in flight
                    # By time, whatever the outcome: refused lines cost the loop too.
                    if time.perf_counter() - since_yield >= YIELD_AFTER:
                        await asyncio.sleep(0)  # let the UI draw and the reader read
                        since_yield = time.perf_counter()
