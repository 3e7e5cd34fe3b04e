"""`jstui serve` in a real browser: Debian's headless Chromium driven by Playwright.

The page's terminal is xterm.js drawn on a canvas, so the DOM holds no screen text: an init script
keeps the page's xterm `Terminal` (textual.js stores it as `this.terminal`) and the tests read its
buffer. Keys reach the app only while xterm's hidden textarea has the focus: jstui's page gives it
the focus when it loads.

Plain `sync_playwright`, not pytest-playwright: the latter's session-wide event loop breaks every
later pytest-asyncio test. No browser is ever downloaded: where /usr/bin/chromium is missing the
tests are skipped, saying how to install it.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serve.helpers import Served, serving

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no {CHROMIUM}: the browser tests of jstui serve need Debian's chromium "
        "(apt-get install -y chromium; .ci/run installs it)",
    ),
    pytest.mark.xdist_group("serve-browser"),  # one worker, one Chromium for them all
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")

KEEP_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true});
    window.jstuiTerminal = value;
  },
});
"""
SCREEN = """() => {
  const buffer = window.jstuiTerminal?.buffer.active;
  const rows = [];
  for (let y = 0; buffer && y < buffer.length; y++) {
    rows.push(buffer.getLine(y).translateToString(true));
  }
  return rows.join("\\n");
}"""
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@contextlib.contextmanager
def opened(browser: sync_api.Browser, served: Served) -> Iterator[tuple[sync_api.Page, list[str]]]:
    """The page at the printed address, and every address the page asked for. Requests to
    anything but the server are recorded, then aborted (a test must not reach out)."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    context.route(
        lambda url: not url.startswith(served.base), lambda route: route.abort("blockedbyclient")
    )
    context.add_init_script(KEEP_TERMINAL)
    page = context.new_page()
    try:
        page.goto(served.address)
        yield page, requested
    finally:
        context.close()


def wait_for_screen(page: sync_api.Page, *texts: str) -> None:
    """Wait until the terminal shows every one of `texts`."""
    condition = " && ".join(f"screen.includes({text!r})" for text in texts)
    page.wait_for_function(
        f"() => {{ const screen = ({SCREEN})(); return {condition}; }}", timeout=WAIT_MS
    )


def test_the_dashboard_runs_in_the_page_and_takes_keys(browser: sync_api.Browser) -> None:
    with serving() as served, opened(browser, served) as (page, requested):
        # The footer's keys show without a click: the app starts focused, as in a terminal.
        wait_for_screen(page, "connected", "1 Streams", "No streams on this server yet", "? Help")
        assert page.title() == "jstui"
        page.keyboard.press("5")
        wait_for_screen(page, "5 Server", "Connections")
        assert "No streams on this server yet" not in page.evaluate(SCREEN)
        assert requested and all(url.startswith(f"{served.base}/") for url in requested), requested
        assert any(url.endswith(".ttf") for url in requested)  # the bundled font, not a CDN's


def test_a_page_of_another_origin_cannot_open_the_websocket(browser: sync_api.Browser) -> None:
    """Even knowing the token: any site the user visits can try a WebSocket to 127.0.0.1."""
    with serving() as served:
        context = browser.new_context()
        try:
            page = context.new_page()
            other_origin = served.base.replace("127.0.0.1", "localhost")
            page.goto(f"{other_origin}/static/css/xterm.css")
            outcome = page.evaluate(
                """url => new Promise(resolve => {
                    const socket = new WebSocket(url);
                    socket.onopen = () => resolve("open");
                    socket.onerror = () => resolve("refused");
                })""",
                f"ws://{served.base.removeprefix('http://')}/ws/{served.token}",
            )
        finally:
            context.close()
        assert outcome == "refused"
        assert served.app_processes() == []


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"]
)
def test_serve_stops_within_2_s_with_a_browser_connected(
    browser: sync_api.Browser, signum: signal.Signals
) -> None:
    with serving() as served, opened(browser, served) as (page, _requested):
        wait_for_screen(page, "connected")
        apps = served.app_processes()
        assert apps
        stopped_in = served.stop(signum)
        page.wait_for_selector("body.-closed", state="attached", timeout=WAIT_MS)
    assert stopped_in < 2.0
    for pid in apps:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    assert served.process.returncode == 0


def _is_zombie(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    return True
