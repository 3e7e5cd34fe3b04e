"""jstui's subcommands (`jstui demo`, `jstui serve`), each a click command that
`jstui.cli.SUBCOMMANDS` names and `jstui.cli.entry` imports only when it is asked for."""
