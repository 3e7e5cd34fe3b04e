"""Settings: where to connect, how to authenticate, and how jstui behaves.

The package's public surface. `resolve_settings` merges, per field, command-line flag >
`NATS_*` environment variable > the selected natscli context > default (no server: jstui starts
its embedded one) into a frozen, checked `Settings`; anything unusable raises `ConfigError` with
a one-line message before the UI starts. The flow, module by module:

- `layers.py`: the flag and environment layers (`Layer`, with a label per value for messages);
- `context.py`: which natscli context is selected, and its JSON file read into a `Layer`;
- `secrets.py`: `env://`, `data:`, `file://` references, paths, creds files and nkey seeds;
- `urls.py`: server and monitoring URLs split and checked;
- `resolve.py`: the layers merged into `Settings` (one credential kind, TLS files checked);
- `settings.py`: `Settings` itself (`connect_options` for nats-py) and `ConfigError`.

No Textual import: this package sits below the UI layers and above `jstui.nats`, whose
`JstuiError` its `ConfigError` extends.
"""

from jstui.config.context import DEFAULT_CONTEXT_URL, default_config_home, select_context
from jstui.config.resolve import resolve_settings
from jstui.config.secrets import parse_creds_text
from jstui.config.settings import DEFAULT_FEED_BUFFER, ConfigError, Settings
from jstui.config.urls import parse_servers

__all__ = [
    "DEFAULT_CONTEXT_URL",
    "DEFAULT_FEED_BUFFER",
    "ConfigError",
    "Settings",
    "default_config_home",
    "parse_creds_text",
    "parse_servers",
    "resolve_settings",
    "select_context",
]
