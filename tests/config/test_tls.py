"""TLS settings: cert/key pairs by layer, the CA, TLS-first, and loading the files."""

from __future__ import annotations

import shutil
import ssl
from pathlib import Path

import pytest

from jstui.config import ConfigError, Settings
from tests.config.helpers import resolve, write_context

# --- TLS settings ------------------------------------------------------------------------------


def test_cert_without_key_from_flags(
    config_home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    pem = tmp_path / "x.pem"
    pem.write_text("x")
    with pytest.raises(
        ConfigError, match=r"^--tls-cert needs a TLS key too \(--tls-key or NATS_KEY\)$"
    ):
        resolve(config_home, env, server="h:1", tls_cert=str(pem))
    with pytest.raises(ConfigError, match=r"^--tls-key needs a TLS cert too"):
        resolve(config_home, env, server="h:1", tls_key=str(pem))
    with pytest.raises(ConfigError, match=r"^NATS_CERT needs a TLS key too"):
        resolve(config_home, {**env, "NATS_CERT": str(pem)}, server="h:1")


def test_cert_and_key_from_flag_and_env(
    config_home: Path, env: dict[str, str], tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    settings = resolve(config_home, {**env, "NATS_KEY": str(key)}, server="h:1", tls_cert=str(cert))
    assert (settings.tls_cert, settings.tls_key) == (cert, key)


def test_context_cert_alone_is_ignored_and_ca_alone_sets_roots(
    config_home: Path, env: dict[str, str], tls_files: tuple[Path, Path]
) -> None:
    cert, _key = tls_files
    write_context(config_home, "c", {"url": "nats://a:1", "cert": str(cert), "ca": str(cert)})
    settings = resolve(config_home, env, context="c")
    assert (settings.tls_cert, settings.tls_key, settings.tls_ca) == (None, None, cert)
    options = settings.connect_options()
    assert isinstance(options["tls"], ssl.SSLContext)


def test_flag_tls_pair_overrides_context_pair(
    config_home: Path, env: dict[str, str], tls_files: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = tls_files
    other_cert, other_key = tmp_path / "o.pem", tmp_path / "ok.pem"
    shutil.copy(cert, other_cert)
    shutil.copy(key, other_key)
    write_context(config_home, "c", {"url": "nats://a:1", "cert": str(cert), "key": str(key)})
    settings = resolve(
        config_home, env, context="c", tls_cert=str(other_cert), tls_key=str(other_key)
    )
    assert (settings.tls_cert, settings.tls_key) == (other_cert, other_key)


def test_tls_first_precedence(config_home: Path, env: dict[str, str]) -> None:
    write_context(config_home, "c", {"url": "nats://a:1", "tls_first": True})
    assert resolve(config_home, env, context="c").tls_first is True
    assert resolve(config_home, env, context="c", tls_first=False).tls_first is False
    assert resolve(config_home, env, server="h:1", tls_first=True).tls_first is True


def test_bad_ca_file_fails_at_resolve_and_in_connect_options(
    config_home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match=f"^TLS CA file {garbage} cannot be loaded: "):
        resolve(config_home, env, server="h:1", tls_ca=str(garbage))
    settings = Settings(servers=("nats://h:1",), tls_ca=garbage)
    with pytest.raises(ConfigError, match=r"cannot be loaded"):
        settings.connect_options()


def test_bad_cert_pair_fails(
    config_home: Path, env: dict[str, str], tls_files: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, _key = tls_files
    wrong_key = tmp_path / "wrong.pem"
    wrong_key.write_text("not a key")
    with pytest.raises(ConfigError, match=f"^TLS certificate {cert} / key {wrong_key} cannot be"):
        resolve(config_home, env, server="h:1", tls_cert=str(cert), tls_key=str(wrong_key))


def test_ssl_context_loads_ca_and_client_cert(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    settings = Settings(servers=("tls://h:1",), tls_ca=cert, tls_cert=cert, tls_key=key)
    context = settings.connect_options()["tls"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.cert_store_stats()["x509_ca"] == 1
