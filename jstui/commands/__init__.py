"""jstui's subcommands (`jstui NAME ...`), each a click command that `jstui.cli.SUBCOMMANDS` names
and imports only when it is asked for."""
