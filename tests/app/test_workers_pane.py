"""The Workers pane driven like a user: dialogs, load, bars and counts, add / kill members."""

from __future__ import annotations

import asyncio
from typing import Any

from nats.aio.client import Client
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select

from jstui.app import JstuiApp
from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.worker_load import WorkerLoadScreen
from jstui.dialogs.worker_member import WorkerMemberScreen
from jstui.dialogs.worker_pool import WorkerPoolScreen
from jstui.nats.embedded import EmbeddedServer
from jstui.nats.workers.member import MemberState
from jstui.nats.workers.spec import Delay, MemberSettings, PoolMode
from jstui.widgets.workers import WorkersPane
from jstui.widgets.workers.groups import pool_entry
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until
from tests.nats.test_observe import External


def pane_of(app: JstuiApp) -> WorkersPane:
    pane = app.dashboard.pane(4)
    assert isinstance(pane, WorkersPane)
    return pane


async def replace_field(pilot: Pilot[Any], key: str, text: str) -> None:
    """Go to a dialog field (as tab does: its value gets selected) and type over it."""
    field = pilot.app.screen.query_one(f"#field-{key}", Input)
    field.focus()
    await pilot.pause()
    assert field.selected_text == field.value
    await pilot.press(*text) if text else await pilot.press("backspace")


async def choose(pilot: Pilot[Any], key: str, steps_down: int) -> None:
    """Open a dialog's choice with the keyboard and move `steps_down` options down."""
    select = pilot.app.screen.query_one(f"#field-{key}", Select)
    select.focus()
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press(*["down"] * steps_down, "enter")
    await pilot.pause()


def shows_no_pool(app: JstuiApp) -> bool:
    """No pool, and the pane says so: the note when nothing else is seen, or a group list
    without a jstui pool in it (the shared test server keeps other tests' consumers)."""
    pane = pane_of(app)
    text = screen_text(app)
    listed = pane.group_list.row_count > 0
    return pane.pool is None and (
        ("jstui pool" not in text) if listed else ("No worker pool yet" in text)
    )


def row_texts(pane: WorkersPane) -> dict[str, str]:
    table = pane.query_one("#workers-table", DataTable)
    return {
        str(key.value): " ".join(str(cell) for cell in table.get_row(key)) for key in table.rows
    }


async def test_start_a_pool_from_the_dialog_generate_load_and_see_the_spread(
    make_app: AppFactory, unique: str
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press("4")
        pane = pane_of(app)
        await wait_until(pilot, lambda: shows_no_pool(app), what="the empty state")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, WorkerPoolScreen), what="dialog")
        await pilot.press(*f"{unique}.jobs.*")
        await replace_field(pilot, "count", "4")
        await pilot.press("enter")
        await wait_until(pilot, lambda: pane.pool is not None, what="pool started")
        await wait_until(pilot, lambda: not isinstance(app.screen, WorkerPoolScreen))
        pool = pane.pool
        assert pool is not None and len(pool.members) == 4
        await wait_until(pilot, lambda: "w4" in screen_text(app), what="member rows")

        await pilot.press("g")
        await wait_until(
            pilot, lambda: isinstance(app.screen, WorkerLoadScreen), what="load dialog"
        )
        assert app.screen.query_one("#field-subject", Input).value == f"{unique}.jobs.task"
        await replace_field(pilot, "count", "2000")
        await replace_field(pilot, "rate", "0")
        await pilot.press("enter")
        await wait_until(pilot, lambda: pool.totals().handled == 2000, what="2,000 handled")
        await wait_until(pilot, lambda: "published 2,000" in screen_text(app), what="totals drawn")
        counts = [m.handled for m in pool.members]

        def counts_drawn() -> bool:
            # the member rows follow on the pane's next tick, maybe after the totals line
            rows = row_texts(pane)
            return all(
                f"{count:,}" in rows.get(f"m{member.index}", "")
                for member, count in zip(pool.members, counts, strict=True)
            )

        await wait_until(pilot, counts_drawn, what=f"member counts {counts} drawn")
        text = screen_text(app)
        rows = row_texts(pane)
        assert list(rows) == ["m1", "m2", "m3", "m4"]
        for member, count in zip(pool.members, counts, strict=True):
            assert f"{count:,}" in rows[f"m{member.index}"]  # the count, drawn
            assert "\u2588" in rows[f"m{member.index}"]  # and a bar of its share
        assert "fairness of 4 max/min" in text
        assert "load" in text and "100%" in text


async def test_pool_dialog_checks_each_field_before_anything_starts(
    make_app: AppFactory, unique: str
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press("4", "n")
        await wait_until(pilot, lambda: isinstance(app.screen, WorkerPoolScreen))
        await pilot.press(*"a..b")
        await replace_field(pilot, "count", "65")
        await replace_field(pilot, "delay", "-5")
        await replace_field(pilot, "fail_pct", "101")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "between 1 and 64" in screen_text(app), what="errors")
        text = screen_text(app)
        assert "empty token" in text
        assert "negative" in text
        assert "between 0 and 100" in text
        assert isinstance(app.screen, WorkerPoolScreen)
        assert pane_of(app).pool is None

        # a JetStream pull pool on a subject no stream captures: said under the subject
        await replace_field(pilot, "subject", f"{unique}.n.>")
        await replace_field(pilot, "count", "3")
        await replace_field(pilot, "delay", "0")
        await replace_field(pilot, "fail_pct", "0")
        await choose(pilot, "mode", 2)
        assert app.screen.query_one("#field-mode", Select).value == PoolMode.PULL.value
        assert app.screen.query_one("#row-batch").display  # pull-only fields appear
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "no stream captures" in screen_text(app), what="no stream")
        assert pane_of(app).pool is None
        await pilot.press("escape")
        assert not isinstance(app.screen, WorkerPoolScreen)


async def test_add_pause_and_kill_members_while_tasks_flow(
    make_app: AppFactory, unique: str
) -> None:
    app = make_app(workers=(f"{unique}.w.*,count=2",))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = pane_of(app)
        await wait_until(pilot, lambda: pane.pool is not None, what="start-up pool")
        await pilot.press("4")
        pool = pane.pool
        assert pool is not None and pool.spec.count == 2
        table = pane.query_one("#workers-table", DataTable)
        table.focus()
        await pilot.press("a")
        await wait_until(pilot, lambda: len(pool.members) == 3, what="added member")
        await wait_until(pilot, lambda: "m3" in row_texts(pane), what="third row")

        await pilot.press("space")  # the cursor is on w1
        await wait_until(pilot, lambda: pool.members[0].state is MemberState.PAUSED)
        await wait_until(pilot, lambda: "paused" in row_texts(pane)["m1"], what="paused shown")

        await pilot.press("down", "k")  # kill w2
        await wait_until(pilot, lambda: pool.members[1].state is MemberState.KILLED)
        await wait_until(pilot, lambda: "killed" in row_texts(pane)["m2"], what="killed shown")

        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, WorkerLoadScreen))
        await replace_field(pilot, "count", "300")
        await replace_field(pilot, "rate", "0")
        await pilot.press("enter")
        await wait_until(pilot, lambda: pool.totals().handled == 300, what="300 handled")
        # only the running member took work
        assert [m.handled for m in pool.members] == [0, 0, 300]
        await wait_until(pilot, lambda: "300" in row_texts(pane)["m3"])

        await pilot.press("up", "space")  # resume w1
        await wait_until(pilot, lambda: pool.members[0].state is MemberState.RUNNING)
        await pilot.press("x")  # remove w1
        await wait_until(pilot, lambda: "m1" not in row_texts(pane), what="row removed")

        await pilot.press("e")  # the cursor is on w2 now: make it slow
        await wait_until(pilot, lambda: isinstance(app.screen, WorkerMemberScreen))
        await replace_field(pilot, "delay", "5")
        await pilot.press("enter")
        await wait_until(pilot, lambda: pool.members[0].settings.delay == Delay(5, 5))

        await pilot.press("s")  # stop the pool, after confirming
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: shows_no_pool(app), what="stopped")


async def test_killed_member_tasks_are_redelivered_and_the_check_says_so(
    make_app: AppFactory, unique: str
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await app.session.jsm.add_stream(name=unique, subjects=[f"{unique}.>"])
        pane = pane_of(app)
        await pilot.press("4", "n")
        await wait_until(pilot, lambda: isinstance(app.screen, WorkerPoolScreen))
        await pilot.press(*f"{unique}.>")
        await choose(pilot, "mode", 2)
        await replace_field(pilot, "ack_wait", "1s")
        await replace_field(pilot, "batch", "5")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pane.pool is not None, what="pull pool")
        pool = pane.pool
        assert pool is not None
        victim = pool.members[0]
        # The victim never finishes a task before its kill: one that took longer than the ack
        # wait and was then acked would count as processed twice (seen under CI load with 300 ms
        # tasks, 5 to a batch: the kill came after its batch's ack wait).
        victim.set_settings(MemberSettings(delay=Delay(60_000, 60_000)))
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, WorkerLoadScreen))
        assert app.screen.query_one("#field-via", Select).value == "js"
        await replace_field(pilot, "count", "200")
        await replace_field(pilot, "rate", "0")
        await pilot.press("enter")
        # one task for sure: a fetch waiting before the tasks arrived may return just one
        await wait_until(pilot, lambda: victim.in_flight >= 1, what="victim holds tasks")
        pane.query_one("#workers-table", DataTable).focus()
        await pilot.press("k")  # cursor on w1
        await wait_until(pilot, lambda: victim.state is MemberState.KILLED)
        try:
            await wait_until(pilot, lambda: pool.ledger.report().acked_once == 200, timeout=20)
        except AssertionError:
            raise AssertionError(f"not all acked once: {pool.ledger.report()}") from None
        await wait_until(pilot, lambda: "redelivered (expected" in screen_text(app))
        verdict = "exactly once \u2714 200 tasks: 200 acked once"
        await wait_until(pilot, lambda: verdict in screen_text(app), what="the verdict drawn")
        assert "\u21ba" in row_texts(pane)["m1"]  # what it held, marked as coming back


async def test_external_members_appear_beside_jstuis_own(
    make_app: AppFactory, nats_server: EmbeddedServer, unique: str
) -> None:
    subject = f"{unique}.ext"
    app = make_app(monitor_url=nats_server.monitor_url, workers=(f"{subject},queue=crew,count=2",))
    external = await External.start(nats_server.url, "core", subject, "crew")
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_connected(pilot)
            pane = pane_of(app)
            await wait_until(pilot, lambda: pane.pool is not None)
            await pilot.press("4")
            await wait_until(
                pilot,
                lambda: len([k for k in row_texts(pane) if k.startswith("x")]) == 2,
                what="two external rows",
            )
            text = screen_text(app)
            assert "external-workers" in text and "external" in text
            assert "2 members on 1 connection" in text
    finally:
        await external.stop()


async def test_read_only_refuses_pools_and_help_explains_the_picture(make_app: AppFactory) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_connected(pilot)
        await pilot.press("4", "n")  # not offered in read-only mode: the key does nothing
        await pilot.pause()
        assert not isinstance(app.screen, WorkerPoolScreen)
        pane_of(app).action_new_pool()  # reached another way, it is refused with the reason
        await pilot.pause()
        assert not isinstance(app.screen, WorkerPoolScreen)
        await wait_until(pilot, lambda: "read-only" in screen_text(app), what="refusal shown")
        await pilot.press("question_mark")
        await pilot.pause()
        for _ in range(40):  # page down to the Workers notes
            if "switch between pools" in screen_text(app):
                break
            await pilot.press("pagedown")
            await pilot.pause()
        assert "switch between pools" in screen_text(app)
        assert "pull pool" in screen_text(app)
        titles = [c.title for c in pane_of(app).palette_commands()]  # only what is allowed
        assert "Workers: new pool" not in titles and "Workers: generate load" not in titles
        assert "Workers: stop pool" in titles
        assert "Watch a group\u2026" in titles  # watching changes nothing: allowed


async def test_bad_start_up_option_is_reported(make_app: AppFactory) -> None:
    app = make_app(workers=("orders.*,count=0",))
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: "--workers orders.*" in screen_text(app), what="notice")
        assert "count" in screen_text(app)
        assert pane_of(app).pool is None


async def test_small_terminal_shows_the_pane_alone(make_app: AppFactory, unique: str) -> None:
    app = make_app(workers=(f"{unique}.small,count=3",))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot)
        pane = pane_of(app)
        await wait_until(pilot, lambda: pane.pool is not None)
        await pilot.press("4")
        await wait_until(pilot, lambda: "w3" in screen_text(app))
        text = screen_text(app)
        assert "core group" in text and "fairness" in text
        assert pane.region.width >= 78


async def test_a_pool_switched_to_shows_only_its_own_recent_rate(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    """Tasks handled by a pool while another is shown are not drawn as one burst when it is
    switched to: every pool's rates are measured all the time, shown or not."""
    app = make_app(workers=(f"{unique}.a.*,count=2", f"{unique}.b.*,count=2"))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = pane_of(app)
        await wait_until(pilot, lambda: len(pane.pools.views) == 2, what="two pools")
        await pilot.press("4")
        shown = pane.pool
        other = next(view for view in pane.pools.views if view.pool is not shown)
        subject = other.pool.spec.subject.replace("*", "task")
        for i in range(200):
            await nc.publish(subject, b"%d" % i)
        await nc.flush()
        await wait_until(pilot, lambda: other.pool.totals().handled == 200, what="200 handled")
        await asyncio.sleep(3.5)  # longer than the up to 3 s a 2 s rate window reaches back
        pane.group_list.select(pool_entry(other).key)
        await wait_until(pilot, lambda: pane.pool is other.pool, what="switched")
        await pilot.pause(0.3)  # a redraw tick or more
        assert other.pool.rate == 0.0
        table = pane.query_one("#workers-table", DataTable)
        await wait_until(
            pilot, lambda: f"m{other.pool.members[0].index}" in row_texts(pane), what="its rows"
        )
        rates = [str(table.get_cell(f"m{m.index}", "rate")).strip() for m in other.pool.members]
        assert rates == ["0/s"] * len(rates)
