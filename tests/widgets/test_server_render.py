"""The Server pane's rows and lines and the Streams detail's placement, built without the app."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from jstui.nats.observe.cluster_view import MetaView, RoutePeer, ServerLinks
from jstui.nats.observe.model import (
    Connection,
    Replica,
    connections_from_connz,
    server_from_varz,
)
from jstui.nats.observe.observer import ObserverStatus
from jstui.nats.streams.placement import placement_from_raw
from jstui.widgets.server.rates import CounterRates
from jstui.widgets.server.render import (
    CONNECTION_COLUMNS,
    SERVER_COLUMNS,
    SORTS,
    cluster_lines,
    coarse_age,
    connection_cells,
    matches,
    server_cells,
    sources_text,
)
from jstui.widgets.streams.render import placement_lines

HOSTILE = "\x1b]52;c;AAAA\x07evil\x1b[2J\nname"
STARTED = "2024-06-01T11:00:00.123456789Z"
NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC).timestamp()


def _connection(**fields: object) -> Connection:
    base = {
        "cid": 7,
        "ip": "10.1.2.3",
        "port": 5555,
        "lang": "python3",
        "version": "2.16.0",
        "start": STARTED,
        "last_activity": "2024-06-01T11:59:30Z",
        "in_msgs": 10,
        "subscriptions": 1,
        "subscriptions_list_detail": [{"subject": "orders.*", "qgroup": "q", "sid": "1"}],
        **fields,
    }
    [conn] = connections_from_connz({"connections": [base]}, "n1")
    return conn


def _visible(text: str) -> bool:
    return all(ch.isprintable() for ch in text)


def test_a_hostile_client_name_cannot_break_a_row() -> None:
    conn = _connection(name=HOSTILE, account=HOSTILE)
    cells = connection_cells(conn, None, now=NOW)
    assert len(cells) == len(CONNECTION_COLUMNS)
    for column, value in zip(CONNECTION_COLUMNS, cells, strict=True):
        assert _visible(value), (column.key, value)
        assert len(value) <= column.width
    assert "\x1b" not in "".join(cells) and "evil" in cells[0]


def test_an_unnamed_connection_shows_address_and_client_and_ages_use_the_app_clock() -> None:
    cells = dict(
        zip(
            (c.key for c in CONNECTION_COLUMNS),
            connection_cells(_connection(), (2.0, 0.0, 1024.0, 0.0), now=NOW),
            strict=True,
        )
    )
    assert cells["name"] == "10.1.2.3:5555 python3 2…"  # cut to the column
    assert cells["uptime"] == "59m" and cells["idle"] == "<1m"  # one unit: see coarse_age
    assert cells["in_msgs"] == "2.0/s" and cells["in_bytes"] == "1.0K/s"
    # A clock behind the server's (the snapshots' stopped clocks) reads 0s, never negative.
    early = connection_cells(_connection(), None, now=NOW - 86400)
    assert early[10] == "<1m"  # uptime
    assert early[6] == "-"  # no rate before the second poll


def test_coarse_ages_change_once_a_minute_at_most() -> None:
    start = datetime(2024, 6, 1, 11, 0, 0, tzinfo=UTC)
    base = start.timestamp()
    assert coarse_age(None, base) == "-"
    assert [coarse_age(start, base + s) for s in (-5, 0, 59, 60, 3599, 3600, 86400 * 2)] == [
        "<1m",
        "<1m",
        "<1m",
        "1m",
        "59m",
        "1h",
        "2d",
    ]


def test_server_row_marks_the_meta_leader_and_sanitizes() -> None:
    server = server_from_varz(
        {"server_name": HOSTILE, "version": "2.15.1", "cpu": 12.4, "mem": 20 << 20}
    )
    cells = server_cells(server, None, now=NOW, meta_leader=HOSTILE)
    assert len(cells) == len(SERVER_COLUMNS)
    assert cells[0].startswith("* ") and all(_visible(value) for value in cells)
    assert cells[4] == "12" and cells[5] == "20M"
    assert not server_cells(server, None, now=NOW)[0].startswith("*")


def test_sorts_and_filter() -> None:
    quiet = _connection(cid=1, name="quiet")
    busy = _connection(cid=2, name="busy", ip="192.168.9.9", lang="go")
    rates = {quiet.key: (1.0, 0.0, 0.0, 0.0), busy.key: (9.0, 0.0, 0.0, 0.0)}
    by_rate = next(sort for sort in SORTS if sort.column == "in_msgs")
    ordered = sorted(
        [quiet, busy],
        key=lambda c: by_rate.key(c, rates[c.key], NOW),
        reverse=by_rate.descending,
    )
    assert [c.name for c in ordered] == ["busy", "quiet"]
    assert len({sort.column for sort in SORTS}) == len(SORTS)
    assert {sort.column for sort in SORTS} <= {c.key for c in CONNECTION_COLUMNS}
    assert matches(busy, "192.168") and matches(busy, "GO") and not matches(quiet, "192.168")
    assert matches(quiet, "")


def test_counter_rates_need_two_readings_and_a_moving_clock() -> None:
    rates = CounterRates()
    assert rates.update("a", (10, 0), 100.0) is None
    assert rates.update("a", (30, 5), 100.0) is None  # stopped clock: no rate
    assert rates.update("a", (30, 5), 102.0) == (10.0, 2.5)
    assert rates.update("a", (1, 0), 104.0) is None  # counters went back: a new connection
    rates.forget_others(["b"])
    assert rates.update("a", (5, 0), 106.0) is None


def test_sources_line_says_what_is_missing() -> None:
    status = ObserverStatus(monitor="none given (--monitor URL)", account="denied: \x1b[31mno")
    text = sources_text(status).plain
    assert "none given" in text and "system credentials" in text and "\x1b" not in text
    assert "a monitoring URL" in text
    assert "--system-user" in text


def test_cluster_lines_show_routes_and_the_leaders_replicas() -> None:
    links = {"n1": ServerLinks("n1", routes=(RoutePeer("n2", 4, "1ms", 0, 0, 0),))}
    meta = MetaView(
        "c1",
        "n1",
        3,
        (Replica("n2", True, 1, 0, False), Replica("n3", False, 0, 0, True)),
        from_leader=True,
    )
    text = "\n".join(line.plain for line in cluster_lines(links, meta, server_count=3))
    assert "routes to n2" in text and "leader * n1" in text
    assert "n2 current" in text and "n3 offline" in text
    assert "Standalone" in cluster_lines({}, None, server_count=1)[0].plain


def test_placement_lines_in_the_stream_detail() -> None:
    assert placement_lines(placement_from_raw({"cluster": {"leader": "solo"}})) == []
    placement = placement_from_raw(
        {
            "cluster": {
                "name": "c1",
                "leader": "n1",
                "replicas": [
                    {"name": "n2", "current": True, "active": 250_000_000},
                    {"name": HOSTILE, "current": False, "lag": 7},
                ],
            },
            "mirror": {"name": "ORIGIN", "lag": 2, "active": 3_000_000_000},
        }
    )
    lines = [line.plain for line in placement_lines(placement)]
    assert lines[0] == "Leader n1  cluster c1"
    assert lines[1].startswith("Replica n2  current  lag 0")
    assert "lagging  lag 7  seen never" in lines[2] and "\x1b" not in lines[2]
    assert lines[3] == "Mirror ORIGIN  lag 2  active 3s ago"
    console = Console(width=80, record=True)
    for line in placement_lines(placement):
        console.print(line)
    assert "\x07" not in console.export_text()
