"""Observation of a NATS system without changing it.

Nothing here joins a queue group, consumes, acks or creates durable state. The sources, best
first: the system account (`system.py`: `$SYS.REQ.SERVER.PING.*` gathered from every server), the
HTTP monitoring endpoint (`http.py`), and the user's own account (`$SYS.REQ.ACCOUNT.PING.CONNZ`,
no extra credentials). `observer.Observer` picks the best one available and hands out parsed
models (`model.py`); the panes never see raw JSON. Nothing in this package imports Textual.
"""
