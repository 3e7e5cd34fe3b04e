"""Groups of workers, watched from outside: the public surface the Workers pane imports.

A *group* is anything that shares work among members: a core queue group (subject + queue on
connection subscriptions), a JetStream push consumer with a deliver group, a pull consumer, or one
endpoint of a NATS micro service. `discover_groups` lists every group visible now
(`discovery.py`: one connections question, consumer listings remembered between rounds, one
`$SRV.STATS` gather); `GroupWatch.poll` gives the live picture of one group (`watch.py`: members,
counts, rates, shares, fairness, notes) without joining it; `match_groups` resolves
`--watch NAME`. The dataclasses they hand out are in `model.py`. Nothing here joins, consumes,
acks or creates anything; every text from the server is untrusted (the widgets sanitize it).
"""

from jstui.nats.observe.groups.discovery import GroupDiscovery, discover_groups
from jstui.nats.observe.groups.model import (
    ConsumerFigures,
    GroupKind,
    GroupRef,
    GroupSummary,
    WatchedMember,
    WatchSnapshot,
    WatchState,
    match_groups,
)
from jstui.nats.observe.groups.watch import GroupWatch

__all__ = [
    "ConsumerFigures",
    "GroupDiscovery",
    "GroupKind",
    "GroupRef",
    "GroupSummary",
    "GroupWatch",
    "WatchSnapshot",
    "WatchState",
    "WatchedMember",
    "discover_groups",
    "match_groups",
]
