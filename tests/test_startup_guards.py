"""Start-up guards that need no timing: what `jstui --help` and a usage error leave unloaded.

Textual and nats-py take most of jstui's start-up; `--help`, `--version` and a mistyped option
must not pay for them (issue #11 asks for `--help` within twice a bare click program's). Each case
runs the real command line in a fresh interpreter and reports which of those modules it loaded.
"""

from __future__ import annotations

import gc
import json
import ssl
import subprocess
import sys

import pytest

HEAVY = ("textual", "nats", "asyncio")
"""Loaded by the app anyway, and too slow to load for a help text (asyncio alone takes ~30 ms)."""

PROBE = f"""
import sys
from jstui.cli import main
code = None
try:
    main(sys.argv[1:], prog_name="jstui")
except SystemExit as exit:
    code = exit.code
loaded = sorted({{name.split(".")[0] for name in sys.modules}} & {set(HEAVY)!r})
print("LOADED:" + ",".join(loaded), "EXIT:" + str(code), file=sys.stderr)
"""


def _loaded_by(*args: str) -> tuple[list[str], str]:
    """The heavy packages a `jstui ARGS` run imported, and its exit status."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    last = done.stderr.strip().splitlines()[-1]
    loaded, _, code = last.removeprefix("LOADED:").partition(" EXIT:")
    return [name for name in loaded.split(",") if name], code


def _run(probe: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `probe` in a fresh interpreter (arguments after it); fail if it fails."""
    return subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60, check=True
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["--port", "not-a-number"],  # click's own usage error
        ["--no-such-option"],
        ["--pane", "no-such-pane"],  # jstui's usage errors, after the settings are resolved
        ["--feed", "bad subject,deliver=never"],
        ["--server", "nats://127.0.0.1:4222", "--creds", "/no/such/file"],
    ],
    ids=["help", "version", "bad-port", "unknown-option", "bad-pane", "bad-feed", "bad-creds"],
)
def test_help_and_usage_errors_load_neither_textual_nor_nats(args: list[str]) -> None:
    loaded, code = _loaded_by(*args)
    assert code in {"0", "2"}, code
    assert loaded == [], f"jstui {' '.join(args)} imported {loaded}"


def test_the_collector_paused_for_start_up_runs_again_once_tuned() -> None:
    """The command pauses the collector while the UI is imported and built; the app's tuning,
    applied after the first frame (or its restore, if the app never ran), switches it back on."""
    from jstui.gctuning import CollectorTuning

    before = gc.get_threshold()
    for end in ("apply", "restore"):
        tuning = CollectorTuning()
        tuning.pause()
        try:
            assert not gc.isenabled() and tuning.paused
            getattr(tuning, end)()
            assert gc.isenabled() and not tuning.paused, end
        finally:
            tuning.restore()
            gc.enable()
        assert gc.get_threshold() == before


def test_the_panes_shown_at_start_load_no_dialog() -> None:
    """Dialogs are imported when first opened; the app and the grid's panes load none of them."""
    from jstui.dashboard import GRID_PANES
    from jstui.widgets.registry import PANES

    modules = ["jstui.app", *(entry.module for entry in PANES[:GRID_PANES])]
    probe = (
        f"import importlib, sys\nfor name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('jstui.dialogs.')))"
    )
    done = _run(probe)
    assert done.stdout.strip() == "[]"


def test_the_app_loads_no_observation_service_before_its_first_frame() -> None:
    """The observer, advisories and dead letters (and the stream service under them) are made
    when first asked for, after the first frame: the app module alone loads none of them."""
    probe = (
        "import sys, jstui.cli, jstui.app\n"
        "print(sorted(m for m in sys.modules if m.startswith('jstui.nats.observe')"
        " or m == 'jstui.nats.streams.service'))"
    )
    done = _run(probe)
    assert done.stdout.strip() == "[]"


JETSTREAM_PROBE = """
import asyncio, sys
import jstui.app
from jstui.nats.session import Session

def loaded():
    return "nats.js.api" in sys.modules

async def main(url):
    report = [loaded()]
    async with Session(servers=[url]) as session:
        report += [session.status.jetstream, loaded()]
        info = await session.jsm.account_info()  # first use: the package loads now
        report += [loaded(), info.streams >= 0]
    print(report)

asyncio.run(main(sys.argv[1]))
"""


def test_connecting_waits_for_no_jetstream_package(nats_url: str) -> None:
    """nats-py's JetStream package (a third of its import) loads on first use: not with the
    app's modules, not for the connect and its JetStream probe, and then whole when used."""
    done = _run(JETSTREAM_PROBE, nats_url)
    # imported app: not loaded; connected: JetStream seen, still not loaded; used: loaded
    assert done.stdout.strip() == "[False, True, False, True, True]", done.stderr


@pytest.mark.parametrize("first", ["nats.js.errors", "nats.js.api", "nats.js"])
def test_the_jetstream_package_runs_each_module_once_whatever_loads_it(first: str) -> None:
    """Loaded late, nats.js must still be one package: the first import of a submodule (a pane's
    module does `import nats.js.errors`) runs the package, which imports that submodule; a second
    run of it made a second NotFoundError that `except` clauses elsewhere did not catch."""
    probe = (
        "import importlib, sys\n"
        "import jstui.app\n"
        "assert 'nats.js.api' not in sys.modules\n"
        f"importlib.import_module({first!r})\n"
        "import nats.js, nats.js.errors as errors, nats.js.manager as manager\n"
        "import nats.js.api as api, nats.js.client as client\n"
        "print(manager.NotFoundError is errors.NotFoundError, client.api is api,"
        " nats.js.JetStreamContext is client.JetStreamContext,"
        " errors.__spec__.origin.endswith('errors.py'))"
    )
    done = _run(probe)
    assert done.stdout.strip() == "True True True True", done.stderr


def test_switching_the_collector_back_on_does_not_walk_what_start_up_built() -> None:
    """What was built while the collector was paused goes straight to the old generation: no
    young collection is pending over it when the collector runs again (it took 60 ms)."""
    from jstui.gctuning import CollectorTuning

    threshold = gc.get_threshold()
    gc.set_threshold(threshold[0], 1_000_000, threshold[2])  # a young pass stops in the middle
    tuning = CollectorTuning()
    tuning.pause()
    try:
        built = [[number] for number in range(50_000)]  # tracked objects, as widgets are
        assert gc.get_count()[0] >= 50_000
        tuning.apply()
        # a young collection would have left them in the middle generation
        assert any(item is built[0] for item in gc.get_objects(generation=2))
    finally:
        tuning.restore()
        gc.set_threshold(*threshold)
        gc.enable()


async def test_a_plain_http_monitoring_client_loads_no_certificates() -> None:
    """Loading the system's CAs took ~15 ms of start-up for the embedded server's http://
    endpoint, which never uses them; https still verifies against them."""
    import httpx

    from jstui.nats.observe.http import MonitorClient

    def context_of(client: MonitorClient) -> ssl.SSLContext:
        transport = client._client._transport
        assert isinstance(transport, httpx.AsyncHTTPTransport)
        context = transport._pool._ssl_context
        assert context is not None
        return context

    plain = MonitorClient("http://127.0.0.1:8222")
    secure = MonitorClient("https://127.0.0.1:8222")
    try:
        plain_context, secure_context = context_of(plain), context_of(secure)
        assert plain_context.cert_store_stats()["x509_ca"] == 0
        assert plain_context.verify_mode is ssl.CERT_REQUIRED  # an https redirect fails closed
        assert secure_context.cert_store_stats()["x509_ca"] > 0
    finally:
        await plain.aclose()
        await secure.aclose()


VERSION_PROBE = """
import asyncio, json, sys
import jstui.app
from jstui.nats.session import Session

async def main(url):
    async with Session(servers=[url]) as session:
        looked_up = "importlib.metadata" in sys.modules
        sent = json.loads(session.nc._connect_command().split(b" ", 1)[1])["version"]
    from importlib.metadata import version
    print(json.dumps([looked_up, sent == version("nats-py"), sent]))

asyncio.run(main(sys.argv[1]))
"""


def test_connecting_looks_up_no_package_metadata_and_sends_the_true_version(
    nats_url: str,
) -> None:
    """nats-py asks importlib.metadata for its version at import (~20 ms before the first
    frame); jstui reads it from the wheel's .dist-info name instead. The server (and every
    monitoring tool after it) must still be told nats-py's real version, not "0.0.0"."""
    done = _run(VERSION_PROBE, nats_url)
    looked_up, same, sent = json.loads(done.stdout)
    assert (looked_up, same) == (False, True), (sent, done.stderr)
    assert sent != "0.0.0"


IDNA_PROBE = """
import asyncio, sys
import jstui.app
from jstui.nats.embedded import EmbeddedServer
from jstui.nats.session import Session

async def main(url):
    async with Session(servers=[url]) as session:
        print("encodings.idna" in sys.modules)

server = EmbeddedServer()
server.start()
try:
    asyncio.run(main(server.url))
finally:
    server.stop()
"""


def test_starting_the_embedded_server_and_connecting_load_no_idna_codec() -> None:
    """A host given as text to getaddrinfo loads Python's IDNA codec (10-15 ms); the wait for
    the embedded server and the connect to it come before "connected", and need none."""
    done = _run(IDNA_PROBE)
    assert done.stdout.strip() == "False", done.stderr
