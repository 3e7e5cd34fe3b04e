"""What every pane of the dashboard shares: a numbered title, the session, connection changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol, cast

from textual.app import SystemCommand
from textual.containers import Vertical
from textual.widget import Widget

from jstui.messages import ConnectionChanged
from jstui.nats.session import ConnectionStatus, Session

if TYPE_CHECKING:
    from jstui.config import Settings


class SessionHost(Protocol):
    """What a pane needs of the app; keeps widgets from importing the app module."""

    session: Session
    settings: Settings


class Pane(Vertical):
    """A dashboard pane. Subclasses set the title, number and help text, and react to connection
    changes in `connection_changed`."""

    PANE_TITLE: ClassVar[str] = ""
    PANE_NUMBER: ClassVar[int] = 0
    PANE_HELP: ClassVar[str] = ""
    """Plain text for the help screen: what the pane shows and how to read it."""
    ALLOW_MAXIMIZE = True

    def on_mount(self) -> None:
        self.border_title = f"{self.PANE_NUMBER} {self.PANE_TITLE}"

    @property
    def host(self) -> SessionHost:
        return cast(SessionHost, self.app)

    @property
    def session(self) -> Session:
        return self.host.session

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.connection_changed(message.status)

    def connection_changed(self, status: ConnectionStatus) -> None:
        """Called with every new connection state; the default does nothing."""

    def palette_commands(self) -> list[SystemCommand]:
        """The pane's main actions for the command palette (ctrl+p)."""
        return []

    def focus_pane(self) -> None:
        """Give focus to the pane's main widget (the first focusable descendant)."""
        for widget in self.query("*"):
            if isinstance(widget, Widget) and widget.focusable and self._displayed_within(widget):
                widget.focus()
                return
        self.focus()

    def _displayed_within(self, widget: Widget) -> bool:
        """True when neither the widget nor an ancestor inside the pane is hidden (display:
        none, as in an inactive tab): focusing a hidden widget leaves nothing focused."""
        node: object = widget
        while isinstance(node, Widget) and node is not self:
            if not node.display:
                return False
            node = node.parent
        return True


class ComingNextPane(Pane):
    """An honest placeholder for a pane whose issue has not been built yet."""

    can_focus = True
    NOTICE: ClassVar[str] = ""

    def compose(self):  # type: ignore[no-untyped-def]
        from textual.widgets import Static

        yield Static(self.NOTICE, classes="coming-next", markup=False)
