"""Responders run by jstui on the shared connection, so the request console works with jstui alone.

Two modes:

- **core**: ``nc.subscribe(subject, queue)`` and ``msg.respond(...)``.
- **stored**: the stored-request pattern. A durable push consumer with manual ack on the stream that
  captures the subject; for each message it reads the ``reply-to`` header, publishes its reply to
  that inbox, then acks. External requesters (the tutorial's publisher) are answered too.

Behaviours: ``echo`` (the payload back), ``upper`` (``Response from <name> : <PAYLOAD IN UPPER
CASE>``, the tutorial replier's format), ``delay=MS`` (echo after a fixed delay), ``random=MIN-MAX``
(echo after a random delay, in ms), ``fail`` (no reply at all) and ``error`` (an empty reply with
``Nats-Service-Error`` headers). Each reply carries a ``Jstui-Responder: <name>`` header.

Which stored requests get answered. The consumer filters on the request subject. A new durable
starts delivering at *now minus the answer window* (deliver policy by start time): a responder
started after a request was sent still answers it while the requester listens, but a new responder
does not replay the stream's whole history. An existing durable resumes where it stopped, so every
message is also checked on arrival: one older than its window is acked without a reply and counted
as skipped.
The window is the request's own ``Jstui-Timeout`` header when it has one (jstui's console sets it),
else the responder's ``max_age`` (default 60 s).

A core responder leaves alone a message that carries a ``reply-to`` header: it is a stored request
on its way into a stream, and its reply subject is the JetStream publish acknowledgment, which a
core answer would spoil (the tutorial runs both kinds on ``my.subject.requests``).

Each `Responder` is one member with its own counters. `ResponderManager.start(spec)` creates
``count`` members: with a queue group they share the load (core queue subscribers, or one durable
with a deliver group); without one each member answers every request (core subscribers, or one
durable per member). `Responder.run()` is the long-lived coroutine of a member (the UI runs it as a
Textual worker); `stop()` ends it.

The ``--responder`` short form: ``SUBJECT[,option...]`` with options ``mode=core|stored``,
``queue=NAME``, ``count=N``, ``behaviour=echo|upper|delay=MS|random=MIN-MAX|fail|error``,
``name=NAME``, ``stream=NAME``, ``durable=NAME``, ``max-age=DURATION``
(see `parse_responder_option`).

The modules (import each name from its module):

- `spec`: `ResponderSpec` (mode, queue, count, `Behaviour`, stream, durable, max age), checked
  field by field for the responder form, and `parse_responder_option` for ``--responder``.
- `running`: `Responder`, one running member, and `ResponderManager`, which prepares the durable
  consumer of a stored spec and starts, lists and stops the members.

No Textual import here.
"""
