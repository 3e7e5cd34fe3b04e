"""The `jstui` command: options to `Settings`, an embedded server if none is named, the app."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from jstui import __version__

if TYPE_CHECKING:
    from jstui.app import JstuiApp
    from jstui.config import Settings
    from jstui.nats.embedded import EmbeddedServer

    AppFactory = Callable[..., JstuiApp]
    """Builds the app from the settings, `embedded=` and `collector=`: `JstuiApp` or a subclass."""

_FILE = click.Path(dir_okay=False, path_type=Path)

FEED_HELP = (
    "Open a feed at start-up (repeatable). SUBJECT[,option...]; options: js (JetStream, "
    "non-consuming), consume (JetStream, consuming), core, queue=NAME, "
    "deliver=all|new|last|last-per-subject, seq=N, since=10m|ISO-TIME, durable=NAME, "
    "stream=NAME, buffer=N. deliver, seq, since and stream imply js, queue implies core. With no "
    "mode, the feed is JetStream non-consuming when a stream captures SUBJECT (to show what is "
    "stored), core otherwise. A js or consume feed whose stream does not exist yet waits for it."
)
RESPONDER_HELP = (
    "Start a responder at launch (repeatable). SUBJECT[,option...]: mode=core|stored, "
    "queue=NAME, count=N, behaviour=echo|upper|delay=MS|random=MIN-MAX|fail|error, name=NAME, "
    "stream=NAME, durable=NAME, max-age=DURATION. Bare words work too: SUBJECT,stored,upper."
)
WORKERS_HELP = (  # spelled out, not imported: the import would slow --help (test_cli compares)
    "Start a worker pool at launch (repeatable). SUBJECT[,option...]: mode=core|group|pull, "
    "queue=NAME, count=N (default 3), durable=NAME, stream=NAME, ack-wait=DURATION, "
    "max-ack-pending=N, batch=N, delay=MS|MIN-MAX, fail=PCT[:nak|noack]."
)

StartupParser = Callable[[str], object]


def _check_startup_options(settings: Settings) -> None:
    """Parse every --feed, --responder, --workers and --watch-requests value now, so a typo stops
    jstui with a message before the UI opens instead of failing later inside it. The parsers are
    imported only for options given: they load Rich, and the embedded server starts only after
    this check."""
    if settings.watch_requests is not None:
        from jstui.nats.names import subject_problem

        if problem := subject_problem(settings.watch_requests):
            raise click.BadParameter(problem, param_hint="--watch-requests")
    if not (settings.feeds or settings.responders or settings.workers):
        return
    from jstui.nats.errors import JstuiError
    from jstui.nats.feeds.spec import parse_feed_option
    from jstui.nats.responders.spec import parse_responder_option
    from jstui.nats.workers.spec import parse_workers_option

    checks: list[tuple[str, tuple[str, ...], StartupParser]] = [
        ("--feed", settings.feeds, parse_feed_option),
        ("--responder", settings.responders, parse_responder_option),
        ("--workers", settings.workers, parse_workers_option),
    ]
    for option, values, parse in checks:
        for value in values:
            try:
                parse(value)
            except JstuiError as error:
                message = str(error) if value in str(error) else f"{value!r}: {error}"
                raise click.BadParameter(message, param_hint=option) from error


def _check_pane(name: str) -> None:
    """A usage error naming the valid panes when `--pane` names none of the registry's."""
    from jstui.widgets.registry import entry_named  # names the panes without importing them

    try:
        entry_named(name)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--pane") from error


def app_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that describe a jstui session (connection, panes, start-up actions): shared by
    `jstui`, `jstui demo` and `jstui serve`, so each takes them in the same words."""
    for option in reversed(_APP_OPTIONS):
        command = option(command)
    return command


_APP_OPTIONS: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
    click.option(
        "-s",
        "--server",
        metavar="URL[,URL...]",
        help="NATS server(s) to connect to "
        "[env NATS_URL]. Without it (and without a context) jstui starts its own server.",
    ),
    click.option("--user", help="User name [env NATS_USER]."),
    click.option("--password", help="Password [env NATS_PASSWORD]."),
    click.option("--token", help="Authentication token [env NATS_TOKEN]."),
    click.option(
        "--creds", type=_FILE, help="User credentials file (JWT + seed) [env NATS_CREDS]."
    ),
    click.option("--nkey", type=_FILE, help="NKey seed file [env NATS_NKEY]."),
    click.option("--tls-cert", type=_FILE, help="TLS client certificate [env NATS_CERT]."),
    click.option("--tls-key", type=_FILE, help="TLS client key [env NATS_KEY]."),
    click.option(
        "--tls-ca", type=_FILE, help="TLS CA certificate to verify the server [env NATS_CA]."
    ),
    click.option("--tls-first", is_flag=True, default=None, help="TLS handshake before the INFO."),
    click.option(
        "--context",
        metavar="NAME",
        help="natscli context to use [env NATS_CONTEXT; "
        "default: the selected context in $XDG_CONFIG_HOME/nats/context.txt].",
    ),
    click.option(
        "--read-only",
        is_flag=True,
        default=None,
        help="Look, change nothing. Refused: publishing, stored requests, requests on a subject a "
        "stream captures (it would store them) or on $JS./$SYS. API subjects, responders, worker "
        "pools and load, consuming feeds and feeds in a queue group, acks, creating, editing, "
        "purging or deleting streams, deleting messages, NDJSON imports. Allowed: other "
        "requests, core and non-consuming JetStream feeds, browsing streams, watching queue "
        "groups and requests, and jstui's own reads (stream and server information).",
    ),
    click.option(
        "--theme", metavar="NAME", help="Textual theme, e.g. nord, dracula, textual-light."
    ),
    click.option(
        "--pane",
        metavar="NAME",
        help="Open maximized on this pane: streams, feeds, requests, workers, server, events,"
        " consumers, kv or objects.",
    ),
    click.option(
        "--port",
        type=click.IntRange(0, 65535),
        help="Port of the embedded server (default: a free port).",
    ),
    click.option(
        "--store",
        type=click.Path(file_okay=False, path_type=Path),
        help="Store folder of the embedded server, to keep streams between runs "
        "(default: a temporary folder removed on exit).",
    ),
    click.option(
        "--monitor",
        metavar="URL[,URL...]",
        help="HTTP monitoring endpoint of a remote server (one per server of a cluster), e.g. "
        "http://host:8222. Without it, port 8222 of the server's host is tried once (the embedded "
        "server's is known).",
    ),
    click.option(
        "--system-user",
        metavar="USER",
        help="System account user, for server-wide observation (every server of the cluster, every "
        "connection) on a second connection used only for monitoring requests.",
    ),
    click.option("--system-password", metavar="PASSWORD", help="Password of --system-user."),
    click.option("--system-creds", type=_FILE, help="System account credentials file."),
    click.option(
        "--system-context", metavar="NAME", help="natscli context of a system account user."
    ),
    click.option(
        "--watch",
        metavar="GROUP",
        help="Open the Workers pane watching a group without joining it: a queue group name, "
        "SUBJECT@QUEUE, STREAM/CONSUMER, or a micro service name.",
    ),
    click.option(
        "--watch-requests",
        metavar="SUBJECT",
        help="Open the Request/Reply pane watching other programs' requests on SUBJECT "
        "(wildcards allowed): each request with its replies, latency and outcome, the stored-"
        "request pattern (a reply-to header) included. Plain subscriptions only: it takes no "
        "request or reply away and makes no consumer.",
    ),
    click.option("--feed", "feeds", multiple=True, metavar="SUBJECT[,OPTS]", help=FEED_HELP),
    click.option(
        "--feed-buffer",
        type=click.IntRange(100, 10_000_000),
        metavar="N",
        help="Messages kept per feed (ring buffer) [default: 10000].",
    ),
    click.option(
        "--responder", "responders", multiple=True, metavar="SUBJECT[,OPTS]", help=RESPONDER_HELP
    ),
    click.option(
        "--workers", "workers", multiple=True, metavar="SUBJECT[,OPTS]", help=WORKERS_HELP
    ),
    click.option(
        "--log",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="Append a debug log to FILE: connections, state changes, errors, JetStream API and "
        "monitoring requests with their outcome and latency. Secrets are masked; message and "
        "request bodies are left out.",
    ),
    click.option(
        "--log-payloads",
        is_flag=True,
        default=None,
        help="With --log: also log the bodies of JetStream API requests and replies.",
    ),
]


COMMAND_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command(context_settings=COMMAND_SETTINGS)
@app_options
@click.version_option(__version__, prog_name="jstui")
def main(**flags: Any) -> None:
    """jstui: a terminal dashboard for NATS JetStream.

    With no server named, jstui starts an embedded nats-server (JetStream on, 127.0.0.1, a free
    port) and stops it on exit. Press ? in the app for every key.

    \b
    Also:
      jstui demo   the JetStream tutorial live in one command, with chaos keys
      jstui serve  jstui in a browser (textual-serve), token-protected
    Each takes these options too, and lists its own with --help.
    """
    sys.exit(launch(flags))


def launch(
    flags: dict[str, Any],
    prepare: Callable[[Settings], Settings] | None = None,
    app_factory: AppFactory | None = None,
) -> int:
    """Resolve and check the settings, run the app; the exit status. A subcommand (`jstui demo`)
    changes the checked settings with `prepare` and builds its own app with `app_factory`."""
    settings = checked_settings(flags)
    if prepare is not None:
        settings = prepare(settings)
    stop_log = started_log(settings)
    try:
        return run(settings, app_factory)
    finally:
        stop_log()


def checked_settings(flags: dict[str, Any]) -> Settings:
    """The session options resolved and checked (shared by `jstui` and its subcommands): a usage
    error naming the option for anything wrong, before anything starts."""
    # Imported only now: `--help`, `--version` and click's usage errors load neither Textual
    # nor nats-py (tests/test_startup_guards.py checks it).
    from jstui.config import ConfigError, resolve_settings
    from jstui.nats.embedded import EmbeddedServerError, prepare_store

    try:
        settings = resolve_settings(flags)
    except ConfigError as error:
        raise click.UsageError(str(error)) from error
    _check_startup_options(settings)
    if settings.embedded and settings.store_dir is not None:
        try:
            prepare_store(settings.store_dir)
        except EmbeddedServerError as error:
            raise click.BadParameter(str(error), param_hint="--store") from error
    if settings.start_pane is not None:
        _check_pane(settings.start_pane)
    return settings


def started_log(settings: Settings) -> Callable[[], None]:
    """`--log FILE` opened (a usage error when it cannot be); returns the function closing it."""
    from jstui.config import ConfigError
    from jstui.logfile import start_log

    try:
        return start_log(settings)
    except ConfigError as error:
        raise click.BadParameter(str(error).removeprefix("--log: "), param_hint="--log") from error


SUBCOMMANDS: dict[str, str] = {
    "demo": "jstui.commands.demo:demo",
    "serve": "jstui.commands.serve:serve",
}
"""`jstui NAME ...` runs the click command at "module:attribute", imported only when asked for (so
that plain `jstui` and its `--help` load nothing more). Anything else is the dashboard itself."""


def entry(argv: list[str] | None = None) -> None:
    """The `jstui` program: a subcommand when the first argument names one, the dashboard otherwise.

    Not a click group: the dashboard takes options and no command name, and `jstui --server URL`
    must keep working exactly as before the subcommands came."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in SUBCOMMANDS:
        import importlib

        module_name, attribute = SUBCOMMANDS[args[0]].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        command.main(args=args[1:], prog_name=f"jstui {args[0]}")
    else:
        main.main(args=args, prog_name="jstui")


def run(settings: Settings, app_factory: AppFactory | None = None) -> int:
    """Start the embedded server if needed, run the app, stop the server; return the exit status.

    The embedded server is started first and boots while Textual and the app are imported (the
    slow part of start-up); the app waits until it is ready, after its first frame.
    """
    from jstui.gctuning import CollectorTuning
    from jstui.nats.embedded import EmbeddedServer, EmbeddedServerError

    collector = CollectorTuning()
    collector.pause()  # until the first frame: start-up builds much and frees little
    embedded: EmbeddedServer | None = None
    if settings.embedded:
        embedded = EmbeddedServer(port=settings.port, store_dir=settings.store_dir)
        try:
            embedded.start_in_background()
        except EmbeddedServerError as error:
            collector.restore()
            click.echo(f"jstui: {error}", err=True)
            return 1
        settings = _with_embedded_server(settings, embedded)
    restore_signals = None
    try:
        from jstui.app import JstuiApp
        from jstui.shutdown import end_on_signals

        _check_theme(settings.theme)
        app = (app_factory or JstuiApp)(settings, embedded=embedded, collector=collector)
        restore_signals = end_on_signals(app, embedded)  # SIGTERM/SIGHUP end it like ctrl+q
        app.run()
    finally:
        collector.restore()  # also when the app never ran (a bad --theme)
        if restore_signals is not None:
            restore_signals()
        if embedded is not None:
            embedded.stop()
    return app.return_code or 0


def _with_embedded_server(settings: Settings, embedded: EmbeddedServer) -> Settings:
    """The settings pointed at the embedded server, with its system user for observation."""
    import logging
    from dataclasses import replace

    from jstui.config import Settings

    system = Settings(
        servers=(embedded.url,), user=embedded.system_user, password=embedded.system_password
    )
    logging.getLogger(__name__).info(
        "embedded nats-server at %s, store %s", embedded.url, embedded.store_dir
    )
    return replace(
        settings, servers=(embedded.url,), monitor_url=embedded.monitor_url, system=system
    )


def _check_theme(theme: str | None) -> None:
    """A usage error naming Textual's themes when `--theme` names none of them. Checked once
    Textual is imported for the app: importing it for this alone would slow every start-up."""
    from textual.theme import BUILTIN_THEMES

    if theme and theme not in BUILTIN_THEMES:
        known = ", ".join(sorted(BUILTIN_THEMES))
        raise click.BadParameter(f"unknown theme {theme!r}; one of: {known}", param_hint="--theme")
