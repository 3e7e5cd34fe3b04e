"""`python -m jstui`."""

from jstui.cli import main

main()
