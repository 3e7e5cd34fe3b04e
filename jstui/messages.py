"""App-wide Textual messages. Messages that belong to one widget are nested in its class."""

from __future__ import annotations

from textual.message import Message

from jstui.nats.session import ConnectionStatus


class ConnectionChanged(Message, bubble=False):
    """The shared connection's state changed; only the newest one matters.

    It does not bubble: the dashboard hands a copy to each pane.
    """

    def __init__(self, status: ConnectionStatus) -> None:
        super().__init__()
        self.status = status

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ConnectionChanged)
