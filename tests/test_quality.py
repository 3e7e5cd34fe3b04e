"""House rules checked mechanically: lint, format, stylesheets (the layer order: test_layers.py)."""

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


def test_type_checker_is_clean() -> None:
    """mypy over the package, configured in pyproject.toml (every function typed)."""
    pytest.importorskip("mypy", reason="mypy is part of the test extra")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_stylesheets_ship_in_the_wheel_config() -> None:
    """styles/ is the one source of TCSS and is force-included into the wheel as jstui/styles."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"styles" = "jstui/styles"' in pyproject
    assert not (ROOT / "jstui" / "styles").exists() or not any(
        (ROOT / "jstui" / "styles").iterdir()
    ), "never keep a second copy of the stylesheets in jstui/styles"


def test_every_stylesheet_parses() -> None:
    """A pane's stylesheet is read only when the pane is first built, so a mistake in it would
    show only then, as an error out of styling: each file is parsed here, with the theme's
    variables, as the app does."""
    from textual.app import App
    from textual.css.stylesheet import Stylesheet

    from jstui.paths import styles_dir

    variables = App().get_css_variables()
    sheets = sorted(styles_dir().glob("*.tcss"))
    assert len(sheets) > 1
    for sheet in sheets:
        stylesheet = Stylesheet(variables=variables)
        stylesheet.add_source(sheet.read_text(encoding="utf-8"), read_from=(str(sheet), ""))
        stylesheet.parse()  # raises StylesheetParseError, naming the file and the line
        assert stylesheet.rules, sheet.name
