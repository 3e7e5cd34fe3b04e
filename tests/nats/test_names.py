"""Subjects and names: one table of inputs with jstui's verdict, checked against a real server.

Each row is (kind, value, valid, stricter). `valid` is what `jstui.nats.names` says; the server
agrees with it on every row, except the rows with a `stricter` reason, which the server accepts and
jstui refuses on purpose (a name that garbles the screen). The second test asks a server of its own
for every row, over the raw protocol or the JetStream API (nats-py would refuse some inputs
before the server sees them), so a server upgrade that changes a rule fails here.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import nats
import pytest

from jstui.nats.embedded import EmbeddedServer
from jstui.nats.names import (
    consumer_name_problem,
    fits_api_subject,
    queue_group_problem,
    stream_name_problem,
    subject_matches,
    subject_problem,
    subjects_collide,
)

Kind = Literal["filter", "send", "stream", "consumer", "queue"]
"""filter: subscribe / stream subject (wildcards allowed); send: publish / request subject."""

CONTROL = "control characters garble every screen that shows them"
LOOKS_LIKE_SPACE = "a Unicode space looks like a separator"

TABLE: list[tuple[Kind, str, bool, str]] = [
    # subjects to subscribe to (filters, stream subjects)
    ("filter", "orders", True, ""),
    ("filter", "orders.eu.new", True, ""),
    ("filter", "orders.*.eu", True, ""),
    ("filter", "orders.>", True, ""),
    ("filter", "a.*", True, ""),
    ("filter", "*", True, ""),
    ("filter", ">", True, ""),
    ("filter", "*.*", True, ""),
    ("filter", "a.b*", True, ""),  # '*' inside a token is a literal character
    ("filter", "a.*b", True, ""),
    ("filter", "a.b>", True, ""),
    ("filter", "a.>b", True, ""),
    ("filter", "$JS.API.>", True, ""),
    ("filter", "_INBOX.x", True, ""),
    ("filter", "ä.ö.日本", True, ""),
    ("filter", "a/b\\c", True, ""),
    ("filter", "x" * 1000, True, ""),
    ("filter", "", False, ""),
    ("filter", "a..b", False, ""),
    ("filter", ".a", False, ""),
    ("filter", "a.", False, ""),
    ("filter", ".", False, ""),
    ("filter", ">.a", False, ""),
    ("filter", "a.>.b", False, ""),
    ("filter", "a b", False, ""),
    ("filter", "a\tb", False, ""),
    ("filter", "a\r\nPUB x 1", False, ""),
    ("filter", "a\x1b[31m", False, CONTROL),
    ("filter", "a\x00b", False, CONTROL),
    ("filter", "a.\x00", False, CONTROL),
    ("filter", "a.\x1b", False, CONTROL),
    ("filter", "a\x7fb", False, CONTROL),
    ("filter", "a\u202eb", False, CONTROL),
    ("filter", "a\u200bb", False, CONTROL),
    ("filter", "a\u00a0b", False, LOOKS_LIKE_SPACE),
    # subjects to send to
    ("send", "orders.eu", True, ""),
    ("send", "a.b*", True, ""),
    ("send", "a.>b", True, ""),
    ("send", "$JS.API.INFO", True, ""),
    ("send", "a.*", False, ""),
    ("send", "a.>", False, ""),
    ("send", "*", False, ""),
    ("send", ">", False, ""),
    ("send", "a..b", False, ""),
    ("send", "a.", False, ""),
    ("send", "a.\x1b", False, CONTROL),
    # stream names
    ("stream", "ORDERS", True, ""),
    ("stream", "ORDERS_v2-x", True, ""),
    ("stream", "$weird#name:1", True, ""),
    ("stream", "äöü日本", True, ""),
    ("stream", "n" * 255, True, ""),
    ("stream", "n" * 256, False, ""),
    ("stream", "", False, ""),
    ("stream", "a b", False, ""),
    ("stream", "a\tb", False, ""),
    ("stream", "a.b", False, ""),
    ("stream", "a*", False, ""),
    ("stream", "*", False, ""),
    ("stream", "a>", False, ""),
    ("stream", "a/b", False, ""),
    ("stream", "a\\b", False, ""),
    ("stream", "a\x1bb", False, CONTROL),
    ("stream", "a\x00b", False, CONTROL),
    ("stream", "a\u202eb", False, CONTROL),
    # consumer (durable) names
    ("consumer", "worker-1_a", True, ""),
    ("consumer", "n" * 255, True, ""),
    ("consumer", "n" * 256, False, ""),
    ("consumer", "d.3", False, ""),
    ("consumer", "a b", False, ""),
    ("consumer", "a>", False, ""),
    ("consumer", "a/b", False, ""),
    ("consumer", "a\\b", False, ""),
    ("consumer", "a\x1bb", False, CONTROL),
    # queue groups
    ("queue", "workers", True, ""),
    ("queue", "q.1", True, ""),
    ("queue", "q*", True, ""),
    ("queue", "q>", True, ""),
    ("queue", "q/1", True, ""),
    ("queue", "", False, ""),
    ("queue", "a b", False, ""),
    ("queue", "q\x1b", False, CONTROL),
]


def verdict(kind: Kind, value: str) -> str | None:
    """jstui's answer: None when valid, else the reason."""
    if kind == "filter":
        return subject_problem(value)
    if kind == "send":
        return subject_problem(value, wildcards=False)
    if kind == "stream":
        return stream_name_problem(value)
    if kind == "consumer":
        return consumer_name_problem(value)
    return queue_group_problem(value)


def row_id(row: tuple[Kind, str, bool, str]) -> str:
    kind, value, _, _ = row
    shown = value if len(value) <= 12 else f"{value[:8]}..{len(value)}"
    return f"{kind}:{shown.encode('unicode_escape').decode()}"


@pytest.mark.parametrize("row", TABLE, ids=row_id)
def test_names_verdict(row: tuple[Kind, str, bool, str]) -> None:
    kind, value, valid, _ = row
    problem = verdict(kind, value)
    assert (problem is None) == valid, problem
    if problem is not None:
        assert problem.isprintable() and len(problem) < 120  # shown under a form field


# -- what the server says --------------------------------------------------------------------------

# Whitespace separates the fields of a protocol line, so a subject or queue holding it can never
# reach the server as one; those rows are refused by the protocol itself.
PROTOCOL_SEPARATORS = frozenset(" \t\r\n")


class RawClient:
    """A bare protocol connection: nats-py checks subjects itself, which would hide the server."""

    def __init__(self, port: int, *, pedantic: bool) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self._read_until(b"\r\n")  # INFO
        connect = {"verbose": False, "pedantic": pedantic, "headers": True}
        self.sock.sendall(f"CONNECT {json.dumps(connect)}\r\n".encode())
        self.sid = 0

    def _read_until(self, marker: bytes) -> bytes:
        data = b""
        while marker not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    def refused(self, line: bytes) -> bool:
        """Send one protocol line; True when the server answers -ERR before our PONG."""
        self.sock.sendall(line + b"\r\nPING\r\n")
        answer = self._read_until(b"PONG\r\n")
        return b"-ERR" in answer

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """A server of this module's own: streams on `>`-like subjects must not meet other tests."""
    server = EmbeddedServer(store_dir=Path(tmp_path_factory.mktemp("names")), server_name="names")
    server.start()
    yield server
    server.stop()


async def api(nc: nats.NATS, subject: str, body: dict[str, object]) -> dict[str, object]:
    reply = await nc.request(subject, json.dumps(body).encode(), timeout=5)
    answer: dict[str, object] = json.loads(reply.data)
    return answer


def addressable(name: str) -> str:
    """The name as an API subject token; a name that cannot be one is sent under a stand-in, and
    the server refuses the mismatch (10056 / 10017) as it would refuse the name."""
    if not fits_api_subject(name):
        return "STAND_IN"
    return name


async def server_accepts(kind: Kind, value: str, port: int, nc: nats.NATS, serial: int) -> bool:
    if kind in ("filter", "send", "queue") and (
        not value or PROTOCOL_SEPARATORS.intersection(value)
    ):
        return False
    if kind in ("filter", "send", "queue"):
        # "send" asks a pedantic connection: a lenient one delivers to a wildcard subject as if it
        # were a name, which is never what the user meant
        raw = RawClient(port, pedantic=kind == "send")
        try:
            data = value.encode()
            if kind == "filter":
                return not raw.refused(b"SUB " + data + b" 1")
            if kind == "send":
                return not raw.refused(b"PUB " + data + b" 0\r\n")
            return not raw.refused(b"SUB names.queue " + data + b" 1")
        finally:
            raw.close()
    if kind == "stream":
        answer = await api(
            nc,
            f"$JS.API.STREAM.CREATE.{addressable(value)}",
            {"name": value, "subjects": [f"names.stream.{serial}"], "storage": "memory"},
        )
        if "error" not in answer:
            await api(nc, f"$JS.API.STREAM.DELETE.{value}", {})
        return "error" not in answer
    answer = await api(
        nc,
        f"$JS.API.CONSUMER.CREATE.NAMES.{addressable(value)}",
        {"stream_name": "NAMES", "config": {"name": value, "durable_name": value}},
    )
    if "error" not in answer:
        await api(nc, f"$JS.API.CONSUMER.DELETE.NAMES.{value}", {})
    return "error" not in answer


async def test_the_server_agrees_with_the_table(own_server: EmbeddedServer) -> None:
    port = int(own_server.url.rsplit(":", 1)[1])
    nc = await nats.connect(own_server.url)
    try:
        await api(
            nc,
            "$JS.API.STREAM.CREATE.NAMES",
            {"name": "NAMES", "subjects": ["names.consumers"], "storage": "memory"},
        )
        wrong: list[str] = []
        for serial, (kind, value, valid, stricter) in enumerate(TABLE):
            expected = valid or bool(stricter)
            if await server_accepts(kind, value, port, nc, serial) != expected:
                wrong.append(f"{row_id((kind, value, valid, stricter))}: server != {expected}")
        assert wrong == []
        # stream subjects use the filter rule; check it on the API too, not only on SUB
        for serial, (kind, value, valid, stricter) in enumerate(TABLE):
            if kind != "filter" or value in ("*", ">", "$JS.API.>", "_INBOX.x"):
                continue  # refused for overlap / capture-all reasons, not as subjects
            answer = await api(
                nc,
                f"$JS.API.STREAM.CREATE.SUBJ{serial}",
                {"name": f"SUBJ{serial}", "subjects": [value], "storage": "memory"},
            )
            error = answer.get("error")
            invalid = isinstance(error, dict) and error.get("description") == "invalid subject"
            assert invalid != (valid or bool(stricter)), row_id((kind, value, valid, stricter))
            if error is None:
                await api(nc, f"$JS.API.STREAM.DELETE.SUBJ{serial}", {})
    finally:
        await nc.close()


# -- patterns --------------------------------------------------------------------------------------


def test_messages_name_the_problem() -> None:
    assert stream_name_problem("") == "a stream needs a name"
    assert consumer_name_problem("") == "a consumer needs a name"
    assert "empty token" in (subject_problem("a..b") or "")
    assert "'>' must be the last token" in (subject_problem("a.>.b") or "")
    assert "cannot contain spaces" in (subject_problem("a b") or "")
    assert "wildcards" in (subject_problem("a.*", wildcards=False) or "")
    assert "control characters" in (subject_problem("a.\x1b") or "")


def test_names_that_fit_an_api_subject() -> None:
    assert fits_api_subject("ORDERS")
    assert fits_api_subject("a\x1bb")  # refused for new streams, still reachable if one exists
    for bad in ["", "a.b", "a*", "a>", "a b", "a\tb"]:
        assert not fits_api_subject(bad), bad


def test_subject_matches() -> None:
    assert subject_matches("a.*.c", "a.b.c")
    assert not subject_matches("a.*.c", "a.b.d")
    assert subject_matches("a.>", "a.b.c")
    assert not subject_matches("a.>", "a")
    assert subject_matches(">", "anything.at.all")
    assert not subject_matches("a.*", "a.b.c")
    assert subject_matches("a.b*", "a.b*")  # a literal token
    assert not subject_matches("a.b*", "a.bc")


def test_subjects_collide() -> None:
    assert subjects_collide("orders.*", "orders.>")
    assert subjects_collide("a.*.c", "a.b.*")
    assert not subjects_collide("a.b", "a.c")
    assert not subjects_collide("a.*", "a.b.c")
    assert subjects_collide("$JS.API.STREAM.>", "$JS.API.>")
