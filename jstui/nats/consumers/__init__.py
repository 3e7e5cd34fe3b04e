"""Consumers: the form model, the values the pane shows, and the operations, one module each.

- `spec.py`: `ConsumerSpec`, the consumer form as typed ("30s", "1s, 5s, 30s", "team=ops"),
  validated and turned into the API's config JSON (and back from what the server reports);
- `summaries.py`: `ConsumerEntry`, one consumer with its stream, config and state, parsed from
  the JetStream API's raw JSON;
- `service.py`: `ConsumerService`, list over every stream / info / create / update / delete /
  pause / resume on the shared `Session`.

Data flows form -> `ConsumerSpec` -> `ConsumerService` -> server -> raw JSON -> `ConsumerEntry`
-> pane. Importers name the module they use; this package re-exports nothing.
"""
