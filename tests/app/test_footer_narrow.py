"""The footer of keys on a small terminal (80x24), read off the screen as the user sees it.

The command-palette key is docked at the right end of the footer: it must end in the last column,
with nothing after it.
"""

from __future__ import annotations

from jstui.app import JstuiApp
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until

SMALL = (80, 24)
PALETTE = "▏^p palette"


def footer_line(app: JstuiApp) -> str:
    return screen_text(app).splitlines()[-1]


def palette_shown(app: JstuiApp) -> bool:
    return PALETTE in footer_line(app)


async def test_the_palette_key_ends_in_the_last_column(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: palette_shown(app), what="the footer's keys")
        line = footer_line(app)
        assert len(line) == SMALL[0]
        assert line.endswith(PALETTE), f"{line!r} does not end with {PALETTE!r}"
