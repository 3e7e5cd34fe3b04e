"""The app of `jstui demo`: jstui itself, plus the story, its narration and the presenter's keys.

`DemoApp` is a `JstuiApp` whose panes watch the demo's programs exactly as they would watch any
outside program (the command sets the feed, the watched group and the watched requests). Once the
shared connection first says "connected", a worker starts the story (`jstui.nats.demo.story`) in
the app's event loop: its programs are a few messages a second, which the loop carries without a
visible cost, and one loop keeps the kills and restarts simple to reason about. What the story
says becomes a notification. Each pane carries one sentence of narration in its bottom border
(`I` hides and shows them all). The presenter's keys are app bindings, so they show in the footer
and the help; those that need a server of jstui's own are hidden on someone else's server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.reactive import var

from jstui.app import JstuiApp
from jstui.format.text import sanitize
from jstui.nats.cluster import EmbeddedCluster
from jstui.nats.demo.names import DemoNames
from jstui.nats.demo.story import ACK_WAIT_SECONDS, DemoStory
from jstui.nats.session import ConnectionState, ConnectionStatus
from jstui.widgets.registry import PANES

if TYPE_CHECKING:
    from rich.console import RenderableType

    from jstui.config import Settings
    from jstui.dialogs.help import KeySection
    from jstui.widgets.requests.watch import RequestWatchView  # built with the grid, not before

_log = logging.getLogger(__name__)

EARLY_START_SECONDS = 5.0
"""The longest the story's start may hold up jstui's own connection."""
STOP_SECONDS = 1.0
"""The longest quitting waits for the demo's programs to close (and its stream to go): well
inside the 1.5 s a SIGTERM or SIGHUP leaves before the process is ended (`jstui.shutdown`)."""
NARRATION_SECONDS = 0.5
"""How soon a pane built later (Server, Events, ...) gets its narration line."""


def narration(names: DemoNames) -> dict[str, str]:
    """One sentence per pane: what the audience sees there, and the JetStream idea it shows."""
    return {
        "streams": f"{names.stream} stores every message: limits retention, 1,000 msgs, 1 h",
        "feeds": "A live feed that consumes nothing: an ordered consumer, no acks",
        "requests": "Requests stored in the stream; a durable consumer replies to reply-to",
        "workers": f"Deliver group {names.workers}: each message goes to one worker, acked",
        "server": "The server's view: one named connection per demo program",
        "events": "JetStream advisories: the server telling what happens to consumers",
        "consumers": "Durable consumers: the workers' group and the replier, with their lag",
        "kv": "Key/Value buckets are streams too; the demo makes none: try c",
        "objects": "Object stores keep files as chunked streams; the demo makes none: try c",
    }


class DemoApp(JstuiApp):
    """jstui running the tutorial's story. `cluster` is the demo's own cluster, if any."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("P", "demo_pause", "Pause traffic"),
        Binding("plus", "demo_rate(1)", "Faster", key_display="+"),
        Binding("minus", "demo_rate(-1)", "Slower", key_display="-"),
        Binding("W", "demo_add_worker", "Add worker"),
        Binding("K", "demo_kill_worker", "Kill worker"),
        Binding("N", "demo_request", "Request now"),
        Binding("X", "demo_kill_server", "Kill server"),
        Binding("L", "demo_kill_leader", "Kill leader"),
        Binding("I", "demo_narration", "Narration"),
    ]
    KEY_HELP: ClassVar[dict[str, str]] = {
        "demo_pause": "pause or resume the publisher and the requester",
        "demo_rate(1)": "publish faster (0.5 to 50 messages a second)",
        "demo_rate(-1)": "publish slower",
        "demo_add_worker": "start one more worker in the deliver group",
        "demo_kill_worker": "kill the busiest worker: its unacked messages come back to the others",
        "demo_request": "send a stored request now",
        "demo_kill_server": "SIGKILL the nats-server: jstui restarts it on the same store",
        "demo_kill_leader": "SIGKILL the stream's leader node: another replica takes over",
        "demo_narration": "hide or show the narration line of each pane",
    }
    """What each key does, for the help (the footer has room for a word or two)."""
    DEMO_ACTIONS_NEEDING: ClassVar[dict[str, str]] = {
        "demo_kill_server": "embedded",
        "demo_kill_leader": "cluster",
    }
    """Keys shown only with a server of jstui's own: killing someone else's is not a demo."""

    narration_shown: var[bool] = var(True)

    def __init__(
        self,
        settings: Settings,
        *,
        names: DemoNames,
        cluster: EmbeddedCluster | None = None,
        **options: Any,
    ) -> None:
        super().__init__(settings, **options)
        self.names = names
        self.cluster = cluster
        self.story = DemoStory(
            list(settings.servers),
            names,
            self._say,
            connect_options=settings.connect_options(),
            embedded=self.embedded,
            cluster=cluster,
        )
        self._narration = narration(names)
        self._story_asked = False
        self._story_stop: asyncio.Task[None] | None = None
        self.session.add_listener(self._start_story_once_connected)

    def on_mount(self) -> None:
        self.set_interval(NARRATION_SECONDS, self._narrate)

    def exit(
        self, result: int | None = None, return_code: int = 0, message: RenderableType | None = None
    ) -> None:
        """Quit, and stop the story at once: ctrl+q, SIGTERM and SIGHUP all come here, and the
        stream on someone else's server is deleted while Textual takes the screen down, not
        after (a signal leaves 1.5 s for everything)."""
        with contextlib.suppress(RuntimeError):  # no running loop: the app never ran
            self._stop_story()
        super().exit(result, return_code, message)

    def _stop_story(self) -> asyncio.Task[None]:
        if self._story_stop is None:
            self._story_stop = self.story.stop_soon()
        return self._story_stop

    async def on_unmount(self) -> None:
        # before JstuiApp's (Textual calls the subclass's first): the story's stop, begun when
        # the app was asked to exit, ends while the loop still runs
        try:
            await asyncio.wait_for(asyncio.shield(self._stop_story()), STOP_SECONDS)
        except TimeoutError:  # a server gone: quitting must not wait on it
            _log.warning("the demo's programs did not stop within %.1f s", STOP_SECONDS)

    async def _reach_server(self) -> None:
        # The story's stream, consumers and programs come first: the panes built once jstui is
        # connected then find them at their first look, instead of at their next poll seconds
        # later. Tried once here; if it fails, the worker below tries again and says why.
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.wait_until_ready)
        try:
            await asyncio.wait_for(self.story.start(), EARLY_START_SECONDS)
        except Exception as error:
            _log.info("the demo's programs did not start before jstui connected: %s", error)
        await super()._reach_server()

    def _start_story_once_connected(self, status: ConnectionStatus) -> None:
        if status.state is ConnectionState.CONNECTED and not self._story_asked:
            self._story_asked = True
            self._start_story()

    @work(group="demo", exit_on_error=False, description="start the demo's programs")
    async def _start_story(self) -> None:
        try:
            if not self.story.started:
                await self.story.start()
        except Exception as error:  # any failure: told in the app, which stays usable
            self._say(f"The demo's programs did not start: {error}", severity="error")
            return
        workers = len(self.story.workers)
        self._say(
            f"The demo runs: a publisher ({self.story.rate_text()}), a requester, a replier and "
            f"{workers} workers, each a connection of its own. Press ? for the keys."
        )

    def on_request_watch_view_changed(self, event: RequestWatchView.Changed) -> None:
        # The story starts before the panes are built: its first request went by before the
        # Request/Reply pane watched, and the next is seconds away. One now shows the pairing at
        # once (the watch has flushed its subscriptions by the time it says it watches).
        if event.subject == self.names.requests_subject:
            self.story.request_now()

    def _say(self, text: str, severity: SeverityLevel = "information") -> None:
        self.notify(sanitize(text), title="Demo", severity=severity, markup=False)

    # -- narration ------------------------------------------------------------------------------

    def _narrate(self) -> None:
        for pane in self.dashboard.built_panes:
            text = self._narration.get(PANES[pane.number - 1].name, "")
            if pane.border_subtitle not in (None, "", text):
                continue  # the pane is saying something of its own ("waiting for ..."): first
            pane.border_subtitle = text if self.narration_shown else ""

    def watch_narration_shown(self) -> None:
        self._narrate()

    def action_demo_narration(self) -> None:
        self.narration_shown = not self.narration_shown

    # -- the presenter's keys ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needs = self.DEMO_ACTIONS_NEEDING.get(action)
        if needs == "embedded":
            return self.embedded is not None
        if needs == "cluster":
            return self.cluster is not None
        return super().check_action(action, parameters)

    def _story_ready(self) -> bool:
        if not self.story.started:
            self._say("The demo's programs are still starting.", severity="warning")
        return self.story.started

    def action_demo_pause(self) -> None:
        if self._story_ready():
            self.story.toggle_pause()

    def action_demo_rate(self, by: int) -> None:
        if self._story_ready():
            self.story.change_rate(by)

    @work(group="demo-keys", exit_on_error=False, description="add a demo worker")
    async def action_demo_add_worker(self) -> None:
        if self._story_ready():
            await self.story.add_worker()

    @work(group="demo-keys", exit_on_error=False, description="kill a demo worker")
    async def action_demo_kill_worker(self) -> None:
        if self._story_ready():
            await self.story.kill_worker()

    def action_demo_request(self) -> None:
        if self._story_ready():
            self.story.request_now()
            self._say("A request is on its way.")

    def action_demo_kill_server(self) -> None:
        if self._story_ready():
            self.story.kill_server()

    @work(group="demo-keys", exit_on_error=False, description="kill the stream leader")
    async def action_demo_kill_leader(self) -> None:
        if self._story_ready():
            await self.story.kill_stream_leader()

    # -- help -----------------------------------------------------------------------------------

    def _key_sections(self) -> list[KeySection]:
        keys = [
            (binding.key_display or binding.key, self.KEY_HELP[binding.action])
            for binding in DemoApp.BINDINGS
            if isinstance(binding, Binding)
            and self.check_action(binding.action.split("(")[0], ()) is not False
        ]
        sections = super()._key_sections()
        return [sections[0], ("Demo", keys), *sections[1:]]

    def _pane_notes(self) -> list[tuple[str, str]]:
        names = self.names
        story = (
            f'Separate connections named jstui-demo-…: a publisher sends "Message N" to '
            f"{names.test_subject} through JetStream (each with a message id, retried until "
            f"acknowledged, so an outage loses and doubles nothing); a requester stores a request "
            f"with a reply-to header on {names.requests_subject}; a replier answers it from the "
            f"durable consumer {names.replier}; the workers share the deliver group "
            f"{names.workers} and take a moment over each message, so a killed worker holds "
            f"unacked messages, redelivered to the others after {ACK_WAIT_SECONDS:g} s. jstui's "
            "panes only watch them. Kill server SIGKILLs jstui's own nats-server: jstui restarts "
            "it on the same store and everyone reconnects by themselves."
        )
        return [("The demo", story), *super()._pane_notes()]


__all__ = ["DemoApp", "narration"]
