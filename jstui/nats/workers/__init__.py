"""Worker pools: N members sharing the work of one subject, and everything needed to watch them.

Three kinds of pool, all on the shared connection of `Session`:

- ``core``: N core queue subscriptions (subject, queue group). The server picks one member at
  random per message; nothing is acknowledged, a member that dies loses what it held.
- ``group``: a durable *push* consumer with a deliver group, and N queue subscriptions on its
  deliver subject: the pattern of ``js.subscribe(subject, queue="workers")`` in nats-py, which
  also uses the queue name as the durable name, so nats-py programs can join the same pool.
  Explicit acks.
- ``pull``: N members fetching batches from one durable pull consumer (any stream, including a
  work-queue stream).

Each member processes one message at a time, after an optional delay (fixed or random in a
range), and fails a chosen share of them (nak, or no ack at all so the server redelivers after the
ack wait). Members can be added, removed, paused, resumed and killed while messages flow. A killed
member stops at once without acknowledging what it holds; a JetStream server then redelivers
those messages to the others after the ack wait, and `TaskLedger` shows each redelivery.

NATS callbacks only bump counters (and the ledger); readers (the pane's timer) call
`WorkerPool.tick()` a few times a second to turn the counters into rates. Nothing here imports
Textual. The ``--workers`` start-up option is parsed by `parse_workers_option` (`WORKERS_SYNTAX`).

The modules, in the order data flows through them (import each name from its module):

- `spec`: `PoolSpec`, `MemberSettings`, `Delay`, `FailureKind`, `PoolMode` and the parsers of
  the dialogs and of ``--workers``.
- `member`: `Member`, one worker: message paths, counters, pause/resume/kill/stop.
- `ledger`: `TaskLedger`, the exactly-once check (`LedgerReport`).
- `pool`: `WorkerPool`, which starts the consumer and the members, and its figures (`Totals`,
  `fairness`, `ConsumerSnapshot`).
- `load`: `LoadGenerator`, which publishes numbered tasks and marks them in the ledger.
"""
