"""Modal screens: forms, message detail, confirmations, help. They sit below the panes: a dialog
reads and acts on service objects (`jstui.nats`) and never imports a widget."""
