"""Live message feeds, one module per concern.

- `spec.py`: `FeedSpec` (what to subscribe to, and how), `FeedMode`, `Deliver`, `parse_since`,
  `parse_feed_option` (the `--feed` short form);
- `message.py`: `FeedMessage` (one received message, a plain tuple), `JsMeta`, `parse_ack_reply`,
  `AckKind`, and the JSON / NDJSON export form;
- `filter.py`: `FeedFilter`, what a view shows;
- `feed.py`: `Feed`, the subscription with its ring buffer, counters, rates and acks;
- `jetstream.py`: where a JetStream feed starts, and reading by get-message (work queues);
- `ordered.py`: `OrderedConsumer`, the non-consuming feed's consumer, on direct delivery.

Data flows spec -> `Feed.start` -> nats-py read loop (or callback) -> ring buffer of
`FeedMessage`s -> `Feed.take_new` (through a `FeedFilter`) -> the pane. Importers name the module
they use; this package re-exports nothing.
"""
