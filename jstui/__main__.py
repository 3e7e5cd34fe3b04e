"""`python -m jstui`."""

from jstui.cli import entry

entry()
