"""The palette's "Connect to server…" and "Connect to context…": switch jstui's connection to
another server without restarting.

Data flow: the app hands each dialog a `Switch` (flags in, what to say out): the form checks
the URL as the command line does (`parse_servers`), then awaits the switch with the form busy;
a `ConfigError` or `ConnectError` (nothing changed then) is shown in the form, which stays open.
The context list shows the natscli contexts saved on this machine (names sanitized: they are
file names); choosing one runs the same switch and shows its failure in the list's error line.
Passwords and tokens are typed into masked inputs and never shown back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from jstui.config.settings import ConfigError
from jstui.config.urls import parse_servers
from jstui.dialogs.styles import DialogStyles
from jstui.dialogs.worker_form import WorkerField, WorkerForm
from jstui.format.redact import redact_url
from jstui.format.text import sanitize
from jstui.nats.errors import JstuiError, SpecErrors

Switch = Callable[[Mapping[str, str | None]], Awaitable[str]]
"""Resolve the flags (``context``, or ``server`` with ``user``/``password``/``token``) and move
the session there; returns what to tell the user, raises a `JstuiError` when nothing changed."""

SERVER_FIELDS = (
    WorkerField("server", "Server URL(s)", "nats://host:4222 (comma-separated for a cluster)"),
    WorkerField("user", "User", "optional"),
    WorkerField("password", "Password", "optional"),
    WorkerField("token", "Token", "optional, instead of user and password"),
)
SECRET_FIELDS = frozenset({"password", "token"})


def server_flags(values: Mapping[str, str]) -> dict[str, str | None]:
    """The form's values as flags for the switch; `SpecErrors` for what is wrong, by field."""
    errors: dict[str, str] = {}
    server = values.get("server", "").strip()
    if not server:
        errors["server"] = "needed"
    else:
        try:
            parse_servers(server, "server")
        except ConfigError as error:
            errors["server"] = redact_url(str(error)).removeprefix("server: ")
    user, password = values.get("user", "").strip(), values.get("password", "")
    token = values.get("token", "")
    if token and (user or password):
        errors["token"] = "a token, or a user and password: not both"
    if password and not user:
        errors["user"] = "needed with a password"
    if errors:
        raise SpecErrors(errors)
    return {
        "server": server,
        "user": user or None,
        "password": password or None,
        "token": token or None,
    }


class ConnectServerScreen(WorkerForm[str]):
    """A server URL and optional credentials; dismisses with what the switch said, or None."""

    FORM_CLASS = "connect-server-form"
    SUBMIT_LABEL = "Connect"
    HINT = "Enter or ctrl+s connects (jstui stays where it is if it cannot), Escape cancels."

    def __init__(self, switch: Switch, server: str = "") -> None:
        super().__init__("Connect to server", SERVER_FIELDS, {"server": server})
        self._switch = switch

    def _widget(self, spec: WorkerField) -> Widget:
        widget = super()._widget(spec)
        if isinstance(widget, Input) and spec.key in SECRET_FIELDS:
            widget.password = True
        return widget

    async def submit(self, values: dict[str, str]) -> str:
        return await self._switch(server_flags(values))


class ContextChooserScreen(DialogStyles, ModalScreen[str | None]):
    """The natscli contexts; Enter connects to the highlighted one, Escape closes. Dismisses
    with what the switch said."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, switch: Switch, names: Sequence[str], current: str | None) -> None:
        super().__init__(classes="dialog-screen")
        self._switch = switch
        self._names = list(names)
        self._current = current
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog context-chooser") as dialog:
            dialog.border_title = "Connect to context"
            if self._names:
                yield Label("natscli contexts on this machine:", markup=False)
            else:
                yield Label(
                    "No natscli context is saved on this machine (nats context add NAME ...).",
                    markup=False,
                )
            yield OptionList(
                *(
                    Option(self._label(name), id=f"context-{index}")
                    for index, name in enumerate(self._names)
                ),
                id="context-options",
            )
            yield Static("", classes="form-error", id="context-error", markup=False)
            yield Label("Enter connects, Escape closes", classes="dialog-hint")

    def _label(self, name: str) -> Text:
        text = Text(sanitize(name, max_len=100), style="bold")
        if name == self._current:
            text.append("  (in use)", style="dim")
        return text

    def on_mount(self) -> None:
        self.query_one("#context-error").display = False
        self.query_one("#context-options", OptionList).focus()

    @on(OptionList.OptionSelected, "#context-options")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        index = int((event.option.id or "context-0").removeprefix("context-"))
        if not self._busy:
            self._connect(self._names[index])

    @work(exclusive=True, group="context-switch", exit_on_error=False, description="switch")
    async def _connect(self, name: str) -> None:
        error_line = self.query_one("#context-error", Static)
        self._busy = True
        error_line.update(Text(f"connecting to context {sanitize(name, max_len=100)}…"))
        error_line.display = True
        try:
            said = await self._switch({"context": name})
        except JstuiError as error:
            error_line.update(Text(sanitize(redact_url(str(error)), max_len=1000)))
            return
        finally:
            self._busy = False
        self.dismiss(said)
