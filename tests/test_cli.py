"""The command line: help, version, and bad values refused before the UI opens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from jstui import __version__
from jstui.cli import main
from jstui.config import resolve_settings


def test_help_lists_every_option() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for option in (
        "--server", "--user", "--password", "--token", "--creds", "--nkey", "--tls-cert",
        "--tls-key", "--tls-ca", "--tls-first", "--context", "--read-only", "--theme", "--port",
        "--store", "--monitor", "--feed", "--feed-buffer", "--responder", "--workers", "--pane",
        "--system-user", "--system-password", "--system-creds", "--system-context", "--watch",
    ):  # fmt: skip
        assert option in result.output


def test_workers_help_spells_the_syntax_the_parser_reads() -> None:
    """cli.py spells the --workers syntax out (importing it would slow --help): keep them equal."""
    from jstui.cli import WORKERS_HELP
    from jstui.nats.workers.spec import WORKERS_SYNTAX

    assert WORKERS_HELP.endswith(WORKERS_SYNTAX)


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--feed", "a b"], "cannot contain spaces"),
        (["--workers", "jobs,count=0"], "between 1 and 64"),
        (["--responder", "svc,behaviour=bogus"], "behaviour"),
        (["--theme", "no-such-theme"], "unknown theme"),
        (["--pane", "nosuch"], "unknown pane 'nosuch'; one of: streams, feeds, requests, workers"),
        (["--tls-cert", "/nonexistent.pem", "--server", "nats://127.0.0.1:1"], "--tls-cert"),
    ],
)
def test_bad_values_stop_before_the_ui(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args, env={"XDG_CONFIG_HOME": "/nonexistent-jstui"})
    assert result.exit_code == 2
    assert message in result.output


def test_python_dash_m_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jstui", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "jstui" in result.stdout


@pytest.mark.parametrize(
    ("store", "reason"),
    [
        ("/proc/1/x", "no such file or directory"),
        ("/etc/passwd/x", "not a directory"),
        ("/sys/x", "not permitted"),
    ],
)
def test_unusable_store_is_one_line_and_exit_status_2(store: str, reason: str) -> None:
    result = CliRunner().invoke(main, ["--store", store])
    assert result.exit_code == 2, result.output
    assert f"cannot use {store} as the store: " in result.output and reason in result.output
    assert isinstance(result.exception, SystemExit)  # a usage error, not a traceback


def test_pane_help_names_every_registered_pane() -> None:
    """--help must not import Textual, so it names the panes itself: keep it in step."""
    from jstui.widgets.registry import pane_names

    help_text = " ".join(CliRunner().invoke(main, ["--help"]).output.split())
    names = pane_names()
    assert f"{', '.join(names[:-1])} or {names[-1]}" in help_text


def test_pane_name_is_read_in_any_case() -> None:
    settings = resolve_settings({"pane": " Workers "}, environ={}, config_home=Path("/nonexistent"))
    assert settings.start_pane == "workers"
    assert resolve_settings({}, environ={}, config_home=Path("/nonexistent")).start_pane is None
