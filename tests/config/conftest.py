"""Fixtures of the config tests: a home, an environ and a config home in `tmp_path`, and files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.config.helpers import FAKE_JWT, creds_text, new_seed


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    """A minimal environment: only HOME, pointing into tmp_path."""
    return {"HOME": str(home)}


@pytest.fixture
def config_home(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.mkdir()
    return path


@pytest.fixture
def creds_file(tmp_path: Path) -> Path:
    path = tmp_path / "user.creds"
    path.write_text(creds_text(FAKE_JWT, new_seed()))
    return path


@pytest.fixture
def nkey_file(tmp_path: Path) -> Path:
    path = tmp_path / "user.nk"
    path.write_text(new_seed() + "\n")
    return path


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate (for localhost and 127.0.0.1) and its key, made with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
