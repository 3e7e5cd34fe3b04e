"""Where jstui's files live, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def styles_dir() -> Path:
    """The TCSS folder: `jstui/styles` in a wheel (hatch force-include), else `<repo>/styles`."""
    packaged = _PACKAGE / "styles"
    return packaged if packaged.is_dir() else _PACKAGE.parent / "styles"


def app_stylesheet() -> Path:
    """The stylesheet read at start-up: the dashboard's shell."""
    return _stylesheet("app.tcss")


def dialog_stylesheet() -> Path:
    """The dialogs' stylesheet: read once the panes shown at start are built, or by the first
    dialog that opens before that (`jstui.dialogs.styles`)."""
    return _stylesheet("dialogs.tcss")


def _stylesheet(name: str) -> Path:
    sheet = styles_dir() / name
    if not sheet.is_file():
        raise FileNotFoundError(f"no stylesheet {sheet}")
    return sheet


def pane_stylesheet(name: str) -> Path | None:
    """The stylesheet of the pane called `name` (`styles/<name>.tcss`), if it has one: read when
    that pane is first built, not at start-up (the panes are built after the first frame, and
    each stylesheet only styles its own pane)."""
    sheet = styles_dir() / f"{name}.tcss"
    return sheet if sheet.is_file() else None
