"""The request history's table (`RecordTable`): its columns have fixed widths, so added rows are
not measured, and a reply redraws the row of its request only, not every visible row."""

from __future__ import annotations

import time

from textual.app import App, ComposeResult

from jstui.nats.requests.record import Reply, RequestRecord, RequestStatus
from jstui.nats.requests.spec import RequestSpec
from jstui.widgets.requests.history import HISTORY_COLUMNS, HistoryTable
from tests.app.conftest import screen_text


class HistoryApp(App[None]):
    def compose(self) -> ComposeResult:
        yield HistoryTable(id="history")


def _record(record_id: int, subject: str = "orders") -> RequestRecord:
    return RequestRecord(record_id, RequestSpec(f"{subject}.{record_id}"), started=time.time())


async def test_added_rows_are_not_measured() -> None:
    app = HistoryApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(HistoryTable)
        long_subject = "orders.created.by.a.long.running.batch.job"
        before = {column.key.value: column.content_width for column in table.ordered_columns}
        records = {n: _record(n, long_subject) for n in range(1, 31)}
        table.sync(records, app.theme_variables)
        await pilot.pause()
        # Textual measures each cell of an added row on idle and keeps the widest in
        # `content_width`, even for a column of fixed width: here nothing was measured.
        content = {column.key.value: column.content_width for column in table.ordered_columns}
        assert content == before
        assert content["subject"] < len(long_subject)
        widths = {column.key.value: column.width for column in table.ordered_columns}
        assert widths == dict(HISTORY_COLUMNS)
        assert "orders.created" in screen_text(app)


async def test_a_reply_redraws_its_row_only() -> None:
    app = HistoryApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(HistoryTable)
        records = {n: _record(n) for n in range(1, 6)}
        table.sync(records, app.theme_variables)
        await pilot.pause()
        assert "waiting" in screen_text(app)
        count = table._update_count
        others = {key for key in list(table._row_render_cache.keys()) if key[0].value != "3"}
        assert others

        answered = records[3]
        answered.replies.append(Reply("_INBOX.x", b"ok", None, 0.0042))
        answered.status = RequestStatus.REPLIED
        answered.version += 1
        table.sync(records, app.theme_variables)
        await pilot.pause()

        row = next(line for line in screen_text(app).splitlines() if "orders.3" in line)
        assert "replied" in row and "4.2" in row
        assert table._update_count == count  # the other rows were not invalidated
        assert others <= {key for key in list(table._row_render_cache.keys())}
