"""`--watch-requests SUBJECT` on the command line: listed, resolved into `Settings`, and a bad
subject refused before the UI opens."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from jstui.cli import main
from jstui.config import resolve_settings


def test_help_lists_the_option_and_read_only_allows_it() -> None:
    help_text = " ".join(CliRunner().invoke(main, ["--help"]).output.split())
    assert "--watch-requests SUBJECT" in help_text
    assert "watching queue groups and requests" in help_text  # --read-only: allowed


def test_the_subject_reaches_the_settings() -> None:
    nowhere = Path("/nonexistent-jstui")  # no natscli context of the user's
    flags = {"watch_requests": " my.subject.requests "}
    settings = resolve_settings(flags, environ={}, config_home=nowhere)
    assert settings.watch_requests == "my.subject.requests"
    assert resolve_settings({}, environ={}, config_home=nowhere).watch_requests is None


def test_a_bad_subject_stops_before_the_ui() -> None:
    result = CliRunner().invoke(
        main, ["--watch-requests", "a..b"], env={"XDG_CONFIG_HOME": "/nonexistent-jstui"}
    )
    assert result.exit_code == 2
    assert "--watch-requests" in result.output and "empty token" in result.output
