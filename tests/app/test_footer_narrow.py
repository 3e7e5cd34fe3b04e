"""The footer of keys on a small terminal (80x24), read off the screen as the user sees it.

The command-palette key is docked at the right end of the footer: it must end in the last column,
with nothing after it. When the keys do not all fit, the footer shows those that fit whole and a
"…" in place of the rest, never a key cut in the middle or drawn under the palette key; the keys
every screen has (Quit, Max/restore) are the first left out; the keys left out are all in the help
(`?`), and come back when the terminal grows.
"""

from __future__ import annotations

from textual.widgets._footer import FooterKey  # not exported; the keys the user reads

from jstui.app import JstuiApp
from jstui.dialogs.help import HelpScreen
from jstui.nats.demo.names import private_names
from jstui.widgets.navigation import GENERAL_ACTIONS, KeysFooter, MoreKeys
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until
from tests.app.test_demo import demo_app, wait_story

SMALL = (80, 24)
WIDE = (160, 45)
PALETTE = "▏^p palette"


def footer_line(app: JstuiApp) -> str:
    return screen_text(app).splitlines()[-1]


def palette_shown(app: JstuiApp) -> bool:
    return PALETTE in footer_line(app)


def footer_keys(app: JstuiApp) -> list[FooterKey]:
    """The footer's keys, the palette key excepted."""
    keys = app.screen.query_one(KeysFooter).query(FooterKey)
    return [key for key in keys if not key.has_class("-command-palette")]


def shown_keys(app: JstuiApp) -> list[FooterKey]:
    return [key for key in footer_keys(app) if key.region]


def hidden_keys(app: JstuiApp) -> list[FooterKey]:
    """The keys left out of the footer: not on screen at all."""
    return [key for key in footer_keys(app) if not key.region]


async def test_the_palette_key_ends_in_the_last_column(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: palette_shown(app), what="the footer's keys")
        line = footer_line(app)
        assert len(line) == SMALL[0]
        assert line.endswith(PALETTE), f"{line!r} does not end with {PALETTE!r}"


async def test_keys_that_do_not_fit_are_left_out_whole_and_found_in_the_help(
    nats_url: str,
) -> None:
    """`jstui demo` on 80x24 has more keys than columns: those that fit, then "…", then the
    palette key at the right end; every key left out is in the help, which a click on "…" opens;
    at 160 columns more fit."""
    app = demo_app([nats_url], private_names())
    async with app.run_test(size=SMALL) as pilot:
        await wait_story(pilot, app)
        # the demo puts the focus in the Workers pane once started: wait for its footer
        await wait_until(
            pilot,
            lambda: "w Watch" in footer_line(app) and hidden_keys(app),
            what="the Workers pane's footer, with keys left out",
        )
        line = footer_line(app)
        assert line.endswith(PALETTE), f"{line!r} does not end with {PALETTE!r}"
        keys_part = line.removesuffix(PALETTE).rstrip()
        assert keys_part.endswith(" …"), f"{line!r}: no … where keys are left out"
        for key in shown_keys(app):
            assert key.description in keys_part
        # the keys of every screen (Quit, Max/restore) make room for the demo's own
        assert "Pause traffic" in keys_part and "Quit" not in keys_part
        general_shown = [key for key in shown_keys(app) if key.action in GENERAL_ACTIONS]
        assert not general_shown, f"{general_shown} shown while the demo's keys are left out"
        in_help = {key for _, keys in app._key_sections() for key, _ in keys}
        for key in hidden_keys(app):
            names = {key.key, key.key_display}
            assert names & in_help, f"{names} left out of the footer and not in the help"
        left_out_small = len(hidden_keys(app))

        await pilot.click(MoreKeys)  # the "…": the help, which lists every key
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), what="help shut")

        await pilot.resize_terminal(*WIDE)
        await wait_until(
            pilot,
            lambda: len(hidden_keys(app)) < left_out_small,
            what="more keys in a wider footer",
        )
        line = footer_line(app)
        for key in shown_keys(app):
            assert key.description in line
