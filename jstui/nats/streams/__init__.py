"""Streams: the form model, the values the pane shows, and the operations, one module each.

- `spec.py`: `StreamSpec`, the stream form as typed ("9s", "10MiB"), validated and turned into a
  `StreamConfig` (and back);
- `summaries.py`: `StreamSummary`, `ConsumerSummary`, `StoredMessage`, `MessagePage`, parsed from
  the JetStream API's raw JSON;
- `service.py`: `StreamService`, list / info / create / update / purge / delete / consumers /
  browse (never consuming) on the shared `Session`.

Data flows form -> `StreamSpec` -> `StreamService` -> server -> raw JSON -> summaries -> pane.
Importers name the module they use; this package re-exports nothing.
"""
