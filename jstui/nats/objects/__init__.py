"""Object stores: the values the Object stores pane shows, the live object list, the transfers
and the operations, one module each.

- `model.py`: `StoreSummary` (a bucket as its backing stream `OBJ_<bucket>` describes it),
  `ObjectEntry` (one object's meta message), `StoreSpec` (the create form, validated), name rules;
- `watch.py`: `ObjectWatch`, the latest meta of every object of a bucket, kept current by an
  ordered consumer on the meta subjects (deleted when the watch stops);
- `transfer.py`: `Transfer` (progress, rate, digest) and the two streaming halves: a counting
  reader for nats-py's `put`, and jstui's own chunk loop for a get;
- `service.py`: `ObjectService`, list / create / delete buckets, put / get / delete objects, on the
  shared `Session`.

Data flows form -> `StoreSpec` / file -> `ObjectService` -> server; server -> raw JSON or
delivered messages -> `StoreSummary` / `ObjectEntry` -> pane. Importers name the module they use.
"""
