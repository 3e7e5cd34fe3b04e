"""Where jstui's files live, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def styles_dir() -> Path:
    """The TCSS folder: `jstui/styles` in a wheel (hatch force-include), else `<repo>/styles`."""
    packaged = _PACKAGE / "styles"
    return packaged if packaged.is_dir() else _PACKAGE.parent / "styles"


def stylesheets() -> list[Path]:
    """Every stylesheet of the app, in a stable order (app.tcss first)."""
    folder = styles_dir()
    sheets = sorted(folder.glob("*.tcss"), key=lambda p: (p.name != "app.tcss", p.name))
    if not sheets:
        raise FileNotFoundError(f"no stylesheets found in {folder}")
    return sheets
