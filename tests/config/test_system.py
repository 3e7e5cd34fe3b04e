"""The system user's connection: `--system-user/--system-password`, `--system-creds`,
`--system-context`, resolved into a second `Settings` used only for observation requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from jstui.config import ConfigError, Settings
from tests.config.helpers import FAKE_JWT, creds_text, new_seed, resolve, write_context

SERVER = "nats://demo.example:4222"


def test_no_system_flags_means_no_system_connection(config_home: Path, env: dict[str, str]) -> None:
    assert resolve(config_home, env, server=SERVER).system is None


def test_system_user_and_password(config_home: Path, env: dict[str, str]) -> None:
    settings = resolve(config_home, env, server=SERVER, system_user="sys", system_password="s3cret")
    assert settings.system is not None
    assert settings.system.servers == (SERVER,)
    options = settings.system.connect_options()
    assert (options["user"], options["password"]) == ("sys", "s3cret")
    assert "s3cret" not in repr(settings)
    assert "s3cret" in settings.secret_values()  # masked in the log


def test_system_creds_file_is_checked(
    config_home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    good = tmp_path / "sys.creds"
    good.write_text(creds_text(FAKE_JWT, new_seed()))
    settings = resolve(config_home, env, server=SERVER, system_creds=str(good))
    assert settings.system is not None
    assert settings.system.connect_options()["user_credentials"] == str(good)
    bad = tmp_path / "bad.creds"
    bad.write_text("nothing here")
    with pytest.raises(ConfigError, match="--system-creds"):
        resolve(config_home, env, server=SERVER, system_creds=str(bad))


def test_system_context_gives_its_url_and_credentials(
    config_home: Path, env: dict[str, str]
) -> None:
    write_context(
        config_home, "sys", {"url": "nats://admin.example:4222", "user": "admin", "password": "pw"}
    )
    settings = resolve(config_home, env, server=SERVER, system_context="sys")
    assert settings.system is not None
    assert settings.system.servers == ("nats://admin.example:4222",)
    assert settings.system.connect_options()["user"] == "admin"
    write_context(config_home, "empty", {"url": "nats://x:4222"})
    with pytest.raises(ConfigError, match="no credentials"):
        resolve(config_home, env, server=SERVER, system_context="empty")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"system_password": "x"}, "--system-password needs --system-user"),
        ({"system_user": "a", "system_context": "c"}, "give one of"),
    ],
)
def test_system_flag_mistakes(
    config_home: Path, env: dict[str, str], flags: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve(config_home, env, server=SERVER, **flags)


def test_system_flags_without_a_server_are_refused(config_home: Path, env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="embedded server's system account"):
        resolve(config_home, env, system_user="sys", system_password="x")


def test_monitor_takes_one_url_per_server_and_watch_is_kept(
    config_home: Path, env: dict[str, str]
) -> None:
    settings = resolve(
        config_home, env, server=SERVER, monitor="h1:8222,https://h2:8222/", watch=" my.*@workers "
    )
    assert settings.monitor_urls == ("http://h1:8222", "https://h2:8222")
    assert settings.watch == "my.*@workers"
    assert Settings().monitor_urls == ()
