"""The `jstui` command with a password in the server URL: nothing it writes to the terminal,
to stderr or to its `--log` file holds the password, and the log holds what it promises.

The app runs in a real pty (Textual writes the screen to stderr, so the pty carries both) against
a real nats-server that wants a password (tests/password_server.py).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from jstui.cli import main
from tests.password_server import (
    PASSWORD,
    SECRETS,
    WRONG_PASSWORD,
    password_server,
    url_with,
)
from tests.test_run import _read_until, start_in_pty

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses a pty")


def _run_in_pty(tmp_path: Path, args: list[str], until: bytes, keys: bytes) -> tuple[bytes, int]:
    """Start jstui with `args`, wait for `until` on the screen, type `keys`; return everything
    written to the terminal and the exit status."""
    process, master = start_in_pty(tmp_path, args)
    try:
        seen = _read_until(master, until, timeout=30)
        assert until in seen, seen[-2000:]
        time.sleep(1.5)  # let the panes make their first API calls
        os.write(master, keys)
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            seen += _read_until(master, b"\x00", timeout=0.2)
        seen += _read_until(master, b"\x00", timeout=0.2)
        return seen, process.wait(5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)


def _assert_no_secret(data: bytes | str) -> None:
    text = data if isinstance(data, str) else data.decode(errors="replace")
    for secret in SECRETS:
        assert secret not in text


def test_accepted_password_is_masked_on_the_terminal_and_in_the_log(tmp_path: Path) -> None:
    log = tmp_path / "jstui.log"
    with password_server(tmp_path) as port:
        url = url_with(PASSWORD, port)
        output, status = _run_in_pty(
            tmp_path, ["--server", url, "--log", str(log)], b"connected", b"\x11"
        )
    assert status == 0
    assert b"u:xxxxx@127.0.0.1" in output
    _assert_no_secret(output)
    text = log.read_text()
    assert f"connected nats://u:xxxxx@127.0.0.1:{port}" in text
    assert "$JS.API.INFO ok in" in text  # a JetStream API call, its outcome and latency
    assert "io.nats.jetstream.api" not in text  # no reply body without --log-payloads
    _assert_no_secret(text)


def test_log_payloads_adds_the_bodies(tmp_path: Path) -> None:
    log = tmp_path / "jstui.log"
    with password_server(tmp_path) as port:
        args = ["--server", url_with(PASSWORD, port), "--log", str(log), "--log-payloads"]
        _output, status = _run_in_pty(tmp_path, args, b"connected", b"\x11")
    assert status == 0
    text = log.read_text()
    assert "io.nats.jetstream.api.v1.account_info_response" in text
    _assert_no_secret(text)


def test_refused_password_is_masked_on_the_terminal_stderr_and_in_the_log(
    tmp_path: Path,
) -> None:
    log = tmp_path / "jstui.log"
    with password_server(tmp_path) as port:
        url = url_with(WRONG_PASSWORD, port)
        output, status = _run_in_pty(
            tmp_path, ["--server", url, "--log", str(log)], b"Cannot connect", b"q"
        )
    assert status == 2
    # the exit message, printed after the UI has gone
    assert f"cannot connect to nats://u:xxxxx@127.0.0.1:{port}".encode() in output
    _assert_no_secret(output)
    text = log.read_text()
    assert "failed nats://u:xxxxx@" in text and "authorization violation" in text
    _assert_no_secret(text)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--server", "nats://u:s3cret@127.0.0.1:99999"], "'nats://u:xxxxx@127.0.0.1:99999'"),
        (["--server", "u:s3cret@bad host"], "'u:xxxxx@bad host'"),
        (["--server", "nats://u:s3/cret@host"], "'nats://u:xxxxx@host'"),
        (["--monitor", "http://u:s3cret@h:99999"], "'http://u:xxxxx@h:99999'"),
        (["--log", "/nonexistent-jstui/x.log"], "--log"),
        (["--log-payloads"], "--log-payloads needs --log FILE"),
    ],
)
def test_usage_errors_mask_the_password(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args, env={"XDG_CONFIG_HOME": "/nonexistent-jstui"})
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "s3cret" not in result.output and "cret" not in result.output
