"""The status line's text for each state: since when, why, the last outage, an unnamed server."""

from __future__ import annotations

import time

from jstui.nats.session import ConnectionState, ConnectionStatus, Outage
from jstui.widgets.status import render_status

UNNAMED = "NAQGKVA5GRCT7CMGZCGJPEQ53BQ7ANWVULCBBEGWTAZKZCNP4HZQCT2Z"
LOST = time.mktime((2026, 12, 3, 16, 57, 29, 0, 0, -1))


def _line(status: ConnectionStatus) -> str:
    return render_status(status, rtt=None, usage=None, embedded=False, read_only=False).plain


def test_reconnecting_says_since_when_and_why() -> None:
    status = ConnectionStatus(
        state=ConnectionState.RECONNECTING,
        url="nats://127.0.0.1:4222",
        since=LOST,
        outage=Outage(lost=LOST, cause="closed by the server: Slow Consumer (Pending Bytes)"),
    )
    line = _line(status)
    assert line.startswith(
        "◌ reconnecting since 16:57:29  closed by the server: Slow Consumer (Pending Bytes)"
    )


def test_connected_keeps_the_last_outage_at_the_end() -> None:
    status = ConnectionStatus(
        state=ConnectionState.CONNECTED,
        url="nats://127.0.0.1:4222",
        since=LOST + 1.2,
        outage=Outage(lost=LOST, back=LOST + 1.2, cause="reconnect asked for from jstui"),
    )
    assert _line(status).endswith("last outage 16:57:29, 1s: reconnect asked for from jstui")


def test_an_unnamed_server_shows_a_short_id_and_a_hostile_cause_is_inert() -> None:
    status = ConnectionStatus(
        state=ConnectionState.RECONNECTING,
        server_name=UNNAMED,
        server_id=UNNAMED,
        since=LOST,
        outage=Outage(lost=LOST, cause="\x1b]52;c;AAAA\x07evil"),
    )
    line = _line(status)
    assert "NAQGKVA5GR\u2026" in line and UNNAMED not in line
    assert "\x1b" not in line and "\x07" not in line and "evil" in line
