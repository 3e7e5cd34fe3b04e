"""House rules checked mechanically: lint, format, and a UI-free service layer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ruff() -> list[str]:
    local = Path(sys.executable).parent / "ruff"
    if local.exists():
        return [str(local)]
    found = shutil.which("ruff")
    if found is None:
        pytest.skip("ruff is not installed (it is part of the test extra)")
    return [found]


def test_ruff_check_is_clean() -> None:
    result = subprocess.run([*_ruff(), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = subprocess.run(
        [*_ruff(), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_service_layer_never_imports_textual() -> None:
    """Importing every jstui.nats module in a fresh interpreter must not load Textual."""
    modules = sorted(p.stem for p in (ROOT / "jstui" / "nats").glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import jstui.nats.{name}\n" for name in modules)
        + "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]\n"
        + "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"jstui.nats imports textual: {result.stdout}"


def test_stylesheets_ship_in_the_wheel_config() -> None:
    """styles/ is the one source of TCSS and is force-included into the wheel as jstui/styles."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"styles" = "jstui/styles"' in pyproject
    assert not (ROOT / "jstui" / "styles").exists() or not any(
        (ROOT / "jstui" / "styles").iterdir()
    ), "never keep a second copy of the stylesheets in jstui/styles"
