"""The Workers pane's picture, built without the app: bars, rows, summary and the lines under it."""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace
from typing import cast

from nats.aio.msg import Msg
from rich.style import Style
from rich.text import Text

from jstui.nats.observe.advisories import MAX_DELIVERIES, AdvisoryWatch
from jstui.nats.observe.deadletters import (
    GONE,
    WHY_MAX_DELIVERIES,
    WHY_TERMINATED,
    DeadLetter,
    DeadLetters,
    Original,
)
from jstui.nats.observe.groups import (
    ConsumerFigures,
    GroupKind,
    GroupRef,
    WatchedMember,
    WatchSnapshot,
    WatchState,
)
from jstui.nats.observe.model import QueueMember, Subscription, connections_from_connz
from jstui.nats.session import Session
from jstui.nats.streams.service import StreamService
from jstui.nats.streams.summaries import StoredMessage
from jstui.nats.workers.member import Member, MemberState
from jstui.nats.workers.pool import WorkerPool
from jstui.nats.workers.spec import PoolMode, PoolSpec
from jstui.widgets.workers.dead_letters import ConsumerDeadLetters
from jstui.widgets.workers.render import (
    EIGHTHS,
    FIXED,
    PCT,
    PoolView,
    column_widths,
    dead_letters_text,
    details_text,
    empty_text,
    percent_text,
    pool_rows,
    ratio_text,
    seq_line,
    share_bar,
    summary_text,
)
from jstui.widgets.workers.watch_render import (
    short_subject,
    watch_columns,
    watch_details,
    watch_rows,
    watch_summary,
)


def plain(name: str) -> Style:
    return Style()


def make_view(mode: PoolMode = PoolMode.CORE, counts: tuple[int, ...] = (30, 10)) -> PoolView:
    pool = WorkerPool(Session(servers=("nats://127.0.0.1:1",)), PoolSpec("tasks", mode=mode))
    for index, handled in enumerate(counts, start=1):
        member = Member(pool, index, pool.spec.member)
        member.state = MemberState.RUNNING
        member.handled = member.acked = handled
        pool.members.append(member)
    return PoolView(pool)


def test_share_bar_fills_in_eighths_and_keeps_its_width() -> None:
    assert share_bar(0, 4) == "    "
    assert share_bar(1, 4) == "\u2588" * 4
    assert share_bar(0.5, 4) == "\u2588\u2588  "
    assert share_bar(1 / 32, 4) == EIGHTHS[1] + "   "
    assert share_bar(2.0, 3) == "\u2588" * 3  # never wider than asked
    assert share_bar(0.5, 0) == ""


def test_ratio_and_percent_texts() -> None:
    assert ratio_text(None) == "-"
    assert ratio_text(float("inf")) == "\u221e"
    assert ratio_text(1.234) == "1.23"
    assert percent_text(None) == "-"
    assert percent_text(0.125) == "12.5%"


def test_seq_line_counts_what_it_does_not_list() -> None:
    line = seq_line("  acked twice", (4, 9), 5, Style(bold=True))
    assert line.plain == "  acked twice \u00d75: seq 4, 9 +3 more"
    assert seq_line("x", (1,), 1, Style()).plain == "x \u00d71: seq 1"


def test_column_widths_share_the_room_between_bar_and_sparkline() -> None:
    bar, spark = column_widths(200)
    assert bar + spark == 200 - 1 - sum(FIXED.values()) - PCT
    assert spark <= 40
    assert column_widths(10) == (6, 5)  # the least there is, even with no room


def test_member_rows_show_shares_counts_and_state() -> None:
    view = make_view(counts=(30, 10))
    rows = pool_rows(view, 10, 5, plain)
    assert list(rows) == ["m1", "m2"]
    first = [cell.plain for cell in rows["m1"]]
    assert first[0] == "w1"
    assert first[1].endswith(" 75%") and first[1].startswith("\u2588" * 7)
    assert first[2].strip() == "30"
    assert first[-1] == " running"
    assert len(rows["m2"][1].plain) == 10 + PCT


def test_a_killed_core_member_shows_what_it_lost() -> None:
    view = make_view(counts=(5,))
    member = view.pool.members[0]
    member.state = MemberState.KILLED
    member.abandoned = 3
    cells = [cell.plain for cell in pool_rows(view, 8, 5, plain)["m1"]]
    assert cells[5].strip() == "3\u2717"
    assert cells[-1] == " killed"


def test_external_members_get_rows_of_their_own_with_sanitized_names() -> None:
    view = make_view(counts=(10,))
    view.externals = [
        QueueMember(connection, Subscription("t", "q", "1", 10, 7, "n1"))
        for connection in connections_from_connz(
            {"connections": [{"cid": 7, "name": "other\x1b[2J", "ip": "::1", "port": 1}]}, "n1"
        )
    ]
    rows = pool_rows(view, 8, 5, plain)
    key = f"x{view.externals[0].key}"
    assert list(rows) == ["m1", key]
    assert rows[key][-1].plain == " external"
    assert rows[key][1].plain.endswith(" 50%")
    assert "\x1b" not in rows[key][0].plain


def test_summary_names_the_pool_and_its_position() -> None:
    view = make_view()
    assert summary_text(view, 0, 1, plain).plain.startswith("core group ")
    text = summary_text(view, 1, 3, plain).plain
    assert text.startswith("[2/3] core group")
    assert " on tasks" in text and "2/2 running" in text


def test_details_of_a_core_pool() -> None:
    text = details_text(make_view(counts=(30, 10)), plain).plain
    lines = text.splitlines()
    assert lines[0].startswith("delivered ")
    assert "fairness of 2 max/min 3.00" in lines[1]
    assert "ack wait" not in text  # JetStream only
    assert lines[-1] == "external none in this queue group"


def test_details_of_a_jetstream_pool_include_consumer_and_exactly_once() -> None:
    text = details_text(make_view(PoolMode.PULL), plain).plain
    assert "ack wait" in text and "batch" in text
    assert "\nconsumer " in text
    assert "exactly once no task seen yet" in text


def test_empty_text_says_how_to_start() -> None:
    assert "No worker pool yet." in empty_text().plain


# -- the watch view ------------------------------------------------------------------------------

HOSTILE = "evil\x1b[2J[red]x[/red]\u202e"


def watched(
    label: str, subject: str, delivered: int, state: WatchState = WatchState.ACTIVE, note: str = ""
) -> WatchedMember:
    return WatchedMember(
        key=f"s/{label}",
        label=label,
        server="s",
        subject=subject,
        client="python3 2.16.0",
        delivered=delivered,
        rate=0.0,
        share=delivered / 40,
        first_seen=100.0,
        last_seen=160.0,
        state=state,
        note=note,
    )


def make_snapshot() -> WatchSnapshot:
    ref = GroupRef(GroupKind.PUSH, "_INBOX.O9", "workers", "orders", "workers")
    figures = ConsumerFigures(
        delivered=40, stream_seq=40, ack_floor=38, pending=5, ack_pending=2, redelivered=1,
        waiting=0, rate=2.5, deliver_subject="_INBOX.O9", deliver_group="workers",
        filter_subjects=("orders.*",), push_bound=True,
    )  # fmt: skip
    members = (
        watched("a", "_INBOX.O9", 40),
        watched(HOSTILE, "_INBOX.abcdefghijklmnopqrstuvwxyzXTi", 0, WatchState.ORPHAN,
                "subscribed to _INBOX.\u2026XTi, but consumer workers delivers to _INBOX.O9"),
    )  # fmt: skip
    return WatchSnapshot(
        ref, members, figures, None, None, 40, ("source: system account",), "system account", 160.0
    )


def test_short_subjects_keep_both_ends_and_are_sanitized() -> None:
    assert short_subject("my.subject.*", 20) == "my.subject.*"
    cut = short_subject("_INBOX.abcdefghijklmnopqrstuvwxyzXTi", 12)
    assert len(cut) == 12 and cut.startswith("_INBOX") and cut.endswith("XTi")
    assert "\x1b" not in short_subject("a\x1bb", 10)


def test_watch_columns_fit_the_table() -> None:
    for width in (78, 100, 158):
        for kind in GroupKind:
            for cluster in (False, True):
                columns = watch_columns(kind, width, cluster)
                assert sum(c.width for c in columns) <= width - 1, (width, kind, cluster)


def test_watch_rows_sanitize_and_mark_the_orphan() -> None:
    snapshot = make_snapshot()
    columns = watch_columns(snapshot.ref.kind, 158, cluster=False)
    rows = watch_rows(snapshot, columns, plain)
    assert list(rows) == ["s/a", f"s/{HOSTILE}"]
    orphan = " ".join(str(cell) for cell in rows[f"s/{HOSTILE}"])
    assert "\x1b" not in orphan and "\u202e" not in orphan and "\u241b" in orphan
    assert "orphan" in orphan and "1m" in orphan  # first seen 60 s before the poll
    assert "40" in " ".join(str(cell) for cell in rows["s/a"])


def test_watch_rows_of_a_cluster_in_a_narrow_table_leave_out_first_seen() -> None:
    """Members on several servers in a table under 100 cells (a pane of the 160-column grid):
    the server column takes the room of "first", and the rows follow the columns (a KeyError
    here broke the Workers pane of `jstui demo --cluster`)."""
    snapshot = make_snapshot()
    columns = watch_columns(snapshot.ref.kind, 78, cluster=True)
    assert "first" not in [column.key for column in columns]
    rows = watch_rows(snapshot, columns, plain)
    assert all(len(cells) == len(columns) for cells in rows.values())


def test_watch_texts_give_the_consumer_figures_and_the_notes() -> None:
    snapshot = make_snapshot()
    summary = watch_summary(snapshot, plain).plain
    assert "watching (not joined) deliver group orders/workers" in summary
    details = watch_details(snapshot, plain).plain
    assert "consumer delivered 40" in details and "pending 5" in details
    assert "ack pending 2" in details and "redelivered 1" in details
    assert "waiting pulls 0" in details and "ack floor 38" in details
    assert "but consumer workers delivers to _INBOX.O9" in details
    assert "source: system account" in details
    assert "\x1b" not in details


def test_a_service_group_shows_requests_errors_and_average_time() -> None:
    ref = GroupRef(GroupKind.SERVICE, "svc.echo", "q", service="svc", endpoint="echo")
    member = replace(watched("i1", "svc.echo", 10), errors=2, average_ns=1_500_000)
    snapshot = WatchSnapshot(ref, (member,), None, None, None, 10, (), "", 160.0)
    columns = watch_columns(ref.kind, 78, cluster=False)
    assert [c.label.strip() for c in columns][:4] == ["member", "requests", "errors", "avg"]
    row = " ".join(str(cell) for cell in watch_rows(snapshot, columns, plain)["s/i1"])
    assert "10" in row and "2" in row and "1.5ms" in row
    assert "requests to members 10" in watch_details(snapshot, plain).plain


# -- dead letters ---------------------------------------------------------------------------------


def letter(seq: int, why: str = WHY_MAX_DELIVERIES, consumer: str = "crew") -> DeadLetter:
    return DeadLetter(seq, 0.0, "S", consumer, stream_seq=seq, deliveries=2, why=why)


def original(seq: int, data: bytes) -> Original:
    return Original(StoredMessage("S", seq, "jobs", None, None, data))


def test_the_dead_letters_line_counts_by_why_and_previews_the_newest_sanitized() -> None:
    letters = [letter(1), letter(2), letter(3, WHY_TERMINATED), letter(4), letter(5)]
    originals = {
        5: original(5, b"img 5\x1b[2J[b]x[/b]"),
        4: Original(None, GONE),
        2: original(2, b"old"),  # not among the newest three: not listed
    }
    text = dead_letters_text(letters, lambda d: originals.get(d.stream_seq or 0), plain).plain
    assert text.startswith("dead letters 5 (max deliveries 4, terminated 1): ")
    assert "seq 5 'img 5\u241b[2J[b]x[/b]'" in text  # escape visible, markup as text
    assert f"seq 4 ({GONE})" in text
    assert "seq 3 \u2026" in text  # not read yet
    assert "seq 2" not in text and "+2 older" in text
    assert text.index("seq 5") < text.index("seq 4") < text.index("seq 3")  # newest first
    assert "\x1b" not in text
    long = dead_letters_text(
        [letter(9)], lambda d: original(9, b"x" * 500), plain
    ).plain  # the preview is cut
    assert len(long) < 120


def test_the_dead_letters_line_says_none_or_not_watched() -> None:
    assert dead_letters_text([], lambda d: None, plain).plain.startswith("dead letters none")
    assert "not watched yet" in dead_letters_text([], lambda d: None, plain, watched=False).plain


def test_the_lines_under_the_tables_end_with_the_dead_letters_line_when_given() -> None:
    line = Text("dead letters none")
    assert details_text(make_view(PoolMode.PULL), plain, line).plain.endswith("dead letters none")
    assert "dead letters" not in details_text(make_view(), plain).plain
    snapshot = make_snapshot()
    assert "dead letters none" in watch_details(snapshot, plain, line).plain
    assert "dead letters" not in watch_details(snapshot, plain).plain


def dead_letter_advisory(watch: AdvisoryWatch, consumer: str, seq: int) -> None:
    body = {"type": "io.nats.jetstream.advisory.v1.max_deliver", "stream": "S"}
    body |= {"consumer": consumer, "stream_seq": seq, "deliveries": 2}
    subject = f"$JS.EVENT.ADVISORY.{MAX_DELIVERIES}.S.{consumer}"
    watch.on_message(cast(Msg, SimpleNamespace(subject=subject, data=json.dumps(body).encode())))


def test_consumer_dead_letters_read_the_deque_only_when_one_came_and_only_theirs() -> None:
    watch = AdvisoryWatch()
    letters = DeadLetters(watch, StreamService(Session(servers=("nats://127.0.0.1:1",))))
    flips: list[bool] = []
    shown = ConsumerDeadLetters(letters, lambda: flips.append(bool(shown.held)))
    assert shown.line(plain) is None  # nothing followed (a core group, a service): no line
    shown.show("S", "crew")
    first = shown.line(plain)
    assert first is not None and first.plain == "dead letters not watched yet"  # (not started)
    assert shown.line(plain) is first  # nothing changed: the same line, the deque not read
    dead_letter_advisory(watch, "other", 1)  # another consumer's
    assert shown.newest is None and shown.line(plain) is not first
    assert not flips
    dead_letter_advisory(watch, "crew", 2)
    line = shown.line(plain)
    assert line is not None and line.plain.startswith("dead letters 1 ") and "seq 2" in line.plain
    assert shown.newest is not None and shown.newest.stream_seq == 2
    assert flips == [True]  # the pane offers D from now on
    shown.show(None)
    assert shown.line(plain) is None and shown.newest is None and flips == [True, False]
