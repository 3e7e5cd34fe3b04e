"""Key-value buckets: the values the KV pane shows, the bucket form, the live key watch, and the
operations, one module each.

- `model.py`: `BucketSummary` (a bucket as its backing stream `KV_<bucket>` describes it),
  `KeyEntry` (one revision of one key), `BucketSpec` (the create form, validated), key rules;
- `watch.py`: `KeyWatch`, the latest revision of every key matching a pattern, kept current by
  an ordered consumer (deleted when the watch stops);
- `service.py`: `KvService`, list / create / delete buckets, get / put / update / delete / purge
  keys, history and purge of delete markers, on the shared `Session`.

Data flows form -> `BucketSpec` / key and value -> `KvService` -> server; server -> raw JSON or
delivered messages -> `BucketSummary` / `KeyEntry` -> pane. Importers name the module they use.
"""
