"""The subjects a stream holds, with their message counts, and the same counts as a token tree.

`StreamService.subject_counts` asks the server (stream info with `subjects_filter`, paged: the
server answers at most 100,000 subjects per request and says how many there are in `total`) and
returns a `SubjectCounts`: subject -> messages, and whether the listing was cut at the caller's
limit. `SubjectTree` turns those counts into a tree with one level per subject token
(``orders.eu.paris`` -> ``orders`` -> ``eu`` -> ``paris``); every node knows the messages below it,
so a view can show a level without walking the rest, and expand nodes only when asked.

Subjects are untrusted: nothing here formats them; whoever shows one sanitizes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

__all__ = ["SERVER_PAGE", "SubjectCounts", "SubjectNode", "SubjectTree", "subject_contains"]

SERVER_PAGE = 100_000
"""The most subjects nats-server returns for one stream info request (its `JSMaxSubjectDetails`);
more come by `offset`."""


@dataclass(frozen=True)
class SubjectCounts:
    """Messages per subject in a stream, as the server counted them."""

    counts: Mapping[str, int]
    total: int
    """How many subjects the server has for the filter (more than `counts` holds when cut)."""

    @property
    def cut(self) -> bool:
        """The listing stopped at the caller's limit: `counts` holds only the first subjects."""
        return self.total > len(self.counts)

    @property
    def messages(self) -> int:
        return sum(self.counts.values())


def subject_contains(subject: str, needle: str) -> bool:
    """The view's filter: a piece of the subject, in any case (not a NATS wildcard match)."""
    return needle.casefold() in subject.casefold()


@dataclass
class SubjectNode:
    """One token of the tree: `path` is the subject up to and including it."""

    token: str
    path: str
    messages: int = 0
    """Messages on this subject and every subject below it."""
    own: int | None = None
    """Messages on exactly `path` (None when no stored subject ends here)."""
    children: dict[str, SubjectNode] = field(default_factory=dict)

    @property
    def subjects(self) -> int:
        """Stored subjects at or below this node."""
        return (self.own is not None) + sum(child.subjects for child in self.children.values())

    def sorted_children(self) -> list[SubjectNode]:
        return [self.children[token] for token in sorted(self.children)]

    @property
    def wildcard(self) -> str:
        """The subject filter for the messages below this node: the subject itself for a leaf,
        ``a.b.>`` otherwise (which does not take ``a.b`` itself: `own` counts those)."""
        return self.path if not self.children else f"{self.path}.>"


class SubjectTree:
    """Subjects split into tokens, counts summed per node; built once from `SubjectCounts`."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.root = SubjectNode(token="", path="")
        for subject, messages in counts.items():
            self._add(subject, messages)

    def _add(self, subject: str, messages: int) -> None:
        node = self.root
        node.messages += messages
        path = ""
        for token in subject.split("."):
            path = f"{path}.{token}" if path else token
            child = node.children.get(token)
            if child is None:
                child = node.children[token] = SubjectNode(token=token, path=path)
            child.messages += messages
            node = child
        node.own = (node.own or 0) + messages

    def walk(self) -> Iterator[SubjectNode]:
        """Every node below the root, depth first in token order."""
        stack = list(reversed(self.root.sorted_children()))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.sorted_children()))
