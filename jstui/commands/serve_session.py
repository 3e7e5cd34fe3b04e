"""One browser's jstui under `jstui serve`: the app process textual-serve starts per WebSocket.

`jstui serve` runs `python -m jstui.commands.serve_session` with no arguments: everything it needs
comes through the environment variable `SESSION_ENV`, never the command line (`ps` shows a
command line to every user, and it may hold a password). The variable holds JSON:
`{"flags": {...}, "server": null | {...}}`: the session's command-line flags, resolved again here
exactly as `jstui` resolves its own, and the server `jstui serve` started (its URL, monitoring URL
and system user), which every browser's jstui then shares.

A jstui that cannot start shows why in the page (`StartupErrorApp`) rather than leaving the
browser on textual-serve's loading screen, which is all it would show otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from jstui.config import Settings, resolve_settings
from jstui.format.text import sanitize_multiline
from jstui.logfile import start_log

SESSION_ENV = "JSTUI_SERVE_SESSION"


def session_environment(flags: Mapping[str, Any], server: Mapping[str, str] | None) -> str:
    """The value of `SESSION_ENV`: the flags (paths as text) and the shared server, if any."""
    return json.dumps({"flags": dict(flags), "server": server}, default=str)


def settings_from_environment(environ: Mapping[str, str] | None = None) -> Settings:
    """The session's settings from `SESSION_ENV`: its flags resolved, pointed at the shared
    server when `jstui serve` started one."""
    environ = os.environ if environ is None else environ
    text = environ.get(SESSION_ENV)
    if not text:
        raise RuntimeError(f"{SESSION_ENV} is not set: this module is run by `jstui serve`")
    session = json.loads(text)
    settings = resolve_settings(session["flags"], environ)
    server = session.get("server")
    if server is None:
        return settings
    system = Settings(
        servers=(server["url"],), user=server["system_user"], password=server["system_password"]
    )
    return replace(
        settings, servers=(server["url"],), monitor_url=server["monitor_url"], system=system
    )


class StartupErrorApp(App[int]):
    """Says in the page why jstui could not start; q (or closing the tab) ends the session."""

    TITLE = "jstui"
    BINDINGS = [("q", "quit", "Close")]
    CSS = "Screen { align: center middle; } #error { width: 90%; padding: 1 2; border: heavy red; }"

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error

    def compose(self) -> ComposeResult:
        message = Text.assemble(
            ("jstui could not start\n\n", "bold"),
            Text(sanitize_multiline(self.error)),
            "\n\nFix it and restart jstui serve. Press q to close this session.",
        )
        yield Static(message, id="error")


def run_session() -> int:
    """Run one browser's jstui; its exit status. The theme, the pane and the start-up options
    were checked by `jstui serve` before it served anything."""
    from jstui.gctuning import CollectorTuning
    from jstui.nats.embedded import _die_with_parent

    # Killed by the kernel when `jstui serve` ends: an app still quitting then (its page closed a
    # moment before) writes into a pipe nobody reads and was seen to hang there for good.
    if (ask_for_sigkill := _die_with_parent()) is not None:
        ask_for_sigkill()
    collector = CollectorTuning()
    try:
        settings = settings_from_environment()
        stop_log = start_log(settings)
    except Exception as error:
        return StartupErrorApp(str(error)).run() or 1
    try:
        try:
            from jstui.app import JstuiApp
            from jstui.shutdown import end_on_signals

            collector.pause()  # as `jstui` does: until the first frame
            app = JstuiApp(settings, collector=collector)
        except Exception:
            collector.restore()
            return StartupErrorApp(traceback.format_exc(limit=-3)).run() or 1
        restore_signals = end_on_signals(app, None)
        try:
            app.run()
        finally:
            collector.restore()
            restore_signals()
        return app.return_code or 0
    finally:
        stop_log()


if __name__ == "__main__":
    status = run_session()
    # Ended without the interpreter's teardown, which collects the whole heap (0.3-1 s measured
    # after a session): `jstui serve` waits for its sessions to end, within 2 s. The app, its
    # connections and the log are closed by now; the web driver wrote its output unbuffered.
    sys.stderr.flush()
    os._exit(status)
