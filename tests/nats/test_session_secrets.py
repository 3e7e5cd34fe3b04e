"""The session never shows or logs the password inside a server URL: in its status, its errors,
its repr and its log, against a real nats-server that wants a password."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from jstui.nats.errors import ConnectError
from jstui.nats.session import ConnectionState, ConnectionStatus, Session
from tests.password_server import (
    PASSWORD,
    SECRETS,
    WRONG_PASSWORD,
    password_server,
    url_with,
)


def _assert_no_secret(*texts: object) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in str(text), text


async def test_a_refused_password_is_masked_in_status_and_error(tmp_path: Path) -> None:
    with password_server(tmp_path) as port:
        seen: list[ConnectionStatus] = []
        session = Session([url_with(WRONG_PASSWORD, port)])
        session.add_listener(seen.append)
        with pytest.raises(ConnectError) as raised:
            await session.connect()
        message = str(raised.value)
        assert "authorization violation" in message
        assert f"nats://u:xxxxx@127.0.0.1:{port}" in message
        assert session.status.state is ConnectionState.FAILED
        _assert_no_secret(message, repr(session), *seen)
        await session.close()


async def test_the_password_it_connected_with_is_masked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="jstui")
    with password_server(tmp_path) as port:
        seen: list[ConnectionStatus] = []
        session = Session([url_with(PASSWORD, port)])
        session.add_listener(seen.append)
        await session.connect()
        try:
            assert session.status.state is ConnectionState.CONNECTED
            assert session.status.jetstream
            assert session.status.url == f"nats://u:xxxxx@127.0.0.1:{port}"
            await session.jsm.account_info()
        finally:
            await session.close()
        _assert_no_secret(repr(session), *seen)
    log = caplog.text
    assert f"connected nats://u:xxxxx@127.0.0.1:{port}" in log
    assert "$JS.API.INFO ok in" in log  # an API call, its outcome and latency
    assert "io.nats.jetstream.api" not in log  # no reply body without --log-payloads
    _assert_no_secret(log)
