"""jstui's subcommands (`jstui demo`), each a click command that `jstui.cli.SUBCOMMANDS` names and
`jstui.cli.entry` imports only when it is asked for."""
