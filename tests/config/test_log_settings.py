"""The settings the log needs: `--log`/`--log-payloads`, the secrets its filter masks, and how
the authentication is described when the only credentials are inside the server URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from jstui.config import ConfigError, Settings
from tests.config.helpers import resolve


def test_log_flags(config_home: Path, env: dict[str, str], home: Path) -> None:
    settings = resolve(config_home, env, log="~/jstui.log", log_payloads=True)
    assert settings.log_file == home / "jstui.log" and settings.log_payloads
    with pytest.raises(ConfigError, match="--log-payloads needs --log FILE"):
        resolve(config_home, env, log_payloads=True)


def test_secret_values_and_the_repr() -> None:
    settings = Settings(
        servers=("nats://u:s3%2Fcret@a:4222", "nats://t0ken@b:4222", "nats://c:4222"),
        password="hunter22",
        token="tok123",
    )
    assert set(settings.secret_values()) == {"s3%2Fcret", "s3/cret", "t0ken", "hunter22", "tok123"}
    for secret in settings.secret_values():
        assert secret not in repr(settings)
    assert settings.describe_auth() == "user info in the URL + token"
    assert Settings(servers=("nats://c:4222",)).describe_auth() == "none"
