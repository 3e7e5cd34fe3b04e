"""`jstui serve`: jstui in web browsers, through textual-serve (one jstui process per browser).

The flow: the jstui options are checked here as `jstui` checks them (a typo stops serve before
any browser comes); with no server named, ONE embedded nats-server starts and every browser's
jstui connects to it, so two browsers see the same system; the options and that server's URL and
system user reach the app processes through the environment (`serve_session.SESSION_ENV`), never
their command line; `serve_web.JstuiServer` serves the page with a random token, printed here in
the address to open; on Ctrl+C or SIGTERM the sessions end, then the embedded server stops.
"""

from __future__ import annotations

import os
import secrets
import shlex
import socket
import sys
from typing import TYPE_CHECKING, Any

import click

from jstui.cli import COMMAND_SETTINGS, _check_theme, app_options, checked_settings, started_log

if TYPE_CHECKING:
    from jstui.nats.embedded import EmbeddedServer

DEFAULT_LISTEN = "127.0.0.1:8000"


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT` (an IPv6 host in brackets: `[::1]:8000`) as (host without brackets, port)."""
    host, colon, port_text = value.rpartition(":")
    host = host.strip()
    if not colon or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise click.BadParameter(
            f"{value!r}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}", param_hint="--listen"
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise click.BadParameter(
            f"{value!r}: put an IPv6 address in brackets, e.g. [::1]:8000", param_hint="--listen"
        )
    return host, int(port_text)


def pick_port(host: str, port: int) -> int:
    """The port to serve on: `port`, checked free now (a clear message rather than a traceback
    from aiohttp later), or a free one for 0. textual-serve needs the number before it binds."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.BadParameter(
                f"cannot listen on {host}:{port}: {error.strerror}", param_hint="--listen"
            ) from error
        return int(probe.getsockname()[1])


def page_address(host: str, port: int, token: str) -> str:
    """The address to open: the token in it, as Jupyter prints its own. For a wildcard host
    (all interfaces) the machine's name, which other machines may know it by."""
    if host in ("0.0.0.0", "::"):
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/?token={token}"


def exposure_warning(host: str, read_only: bool) -> str | None:
    """The warning printed when serve listens beyond this machine; None on a loopback address."""
    from jstui.commands.serve_web import is_loopback

    if is_loopback(host):
        return None
    advice = (
        "It runs read-only (--read-only)."
        if read_only
        else "Consider --read-only, so that a browser can look but change nothing."
    )
    return (
        f"WARNING: listening on {host}, reachable from other machines. Whoever opens the "
        "address below drives jstui with its NATS credentials, and the page is plain HTTP: the "
        f"token crosses the network unencrypted. {advice}"
    )


def shared_server(embedded: EmbeddedServer) -> dict[str, str]:
    """What every browser's jstui needs of the embedded server (see `serve_session`)."""
    return {
        "url": embedded.url,
        "monitor_url": embedded.monitor_url,
        "system_user": embedded.system_user,
        "system_password": embedded.system_password,
    }


@click.command(context_settings=COMMAND_SETTINGS)
@app_options
@click.option(
    "--listen",
    default=DEFAULT_LISTEN,
    show_default=True,
    metavar="HOST:PORT",
    help="Address of the web server (port 0: a free port). Any address but a loopback one "
    "lets other machines in: jstui warns, and --read-only is worth considering.",
)
def serve(listen: str, **flags: Any) -> None:
    """Serve jstui to web browsers: each browser gets its own jstui, on the same NATS system.

    Prints the address to open, with a random token that the page and its WebSocket require.
    With no server named, one embedded nats-server is started for all browsers and stopped on
    exit. Ctrl+C stops serving.
    """
    from jstui.commands.serve_session import SESSION_ENV, session_environment
    from jstui.commands.serve_web import JstuiServer
    from jstui.format.redact import redact_url
    from jstui.nats.embedded import EmbeddedServer, EmbeddedServerError

    host, wanted_port = parse_listen(listen)
    settings = checked_settings(flags)
    _check_theme(settings.theme)  # `jstui` checks it once Textual is imported for the app
    # A port asked for is checked before anything starts; a free one is picked once the embedded
    # server has taken its own ports.
    port = pick_port(host, wanted_port) if wanted_port else 0
    stop_log = started_log(settings)
    embedded: EmbeddedServer | None = None
    try:
        server_info = None
        if settings.embedded:
            embedded = EmbeddedServer(port=settings.port, store_dir=settings.store_dir)
            try:
                embedded.start()
            except EmbeddedServerError as error:
                raise click.ClickException(str(error)) from error
            server_info = shared_server(embedded)
        port = port or pick_port(host, 0)
        # Inherited by every app process textual-serve starts (it copies os.environ).
        os.environ[SESSION_ENV] = session_environment(flags, server_info)
        token = secrets.token_urlsafe(24)
        # `exec`: the app process is then the shell's own, which a stuck session's kill reaches.
        command = "exec " + shlex.join([sys.executable, "-m", "jstui.commands.serve_session"])
        address = page_address(host, port, token)
        served = embedded.url if embedded else redact_url(", ".join(settings.servers))

        def announce() -> None:
            click.echo(f"jstui serve: jstui for browsers, on {served}. Open\n")
            click.echo(f"    {address}\n")
            click.echo("The token in the address is the key: keep it private. Ctrl+C stops.")

        if warning := exposure_warning(host, settings.read_only):
            click.secho(f"jstui serve: {warning}", fg="yellow", err=True)
        web_server = JstuiServer(command, host=host, port=port, token=token, announce=announce)
        try:
            web_server.serve()
        except OSError as error:  # the port was taken after the check (by the embedded server?)
            raise click.ClickException(f"cannot listen on {listen}: {error.strerror}") from error
    finally:
        if embedded is not None:
            embedded.stop()
        stop_log()
    # Served and stopped: ended without the interpreter's teardown, which collects the whole heap
    # (~1 s measured, half the 2 s promised for a stop with browsers connected).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
