"""The request-reply console, with no UI: send requests, keep their history and latency statistics,
and save requests by name. No Textual import here.

The modules, in the order a request flows through them (import each name from its module):

- `headers`: the header names the console and jstui's responders agree on (``reply-to``,
  ``Jstui-Timeout``, ``Jstui-Responder``, ``Nats-Service-Error``) and the form's header text.
- `spec`: `RequestSpec`, one request as the form describes it (mode, payload, timeout...).
- `console`: `RequestConsole`, which sends a spec in one of three modes (request, gather,
  stored) on the session's connection and keeps the bounded history and per-subject latency
  statistics.
- `record`: `RequestRecord` and `Reply`, one history entry and what came back, which the pane
  polls on its timer.
- `saved`: `SavedRequests`, named specs in a JSON file in the user's config directory.
"""
