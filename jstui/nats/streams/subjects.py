"""The subjects a stream holds, with their message counts, and the same counts as a token tree.

`StreamService.subject_counts` asks the server (stream info with `subjects_filter`, paged: the
server answers at most 100,000 subjects per request and says how many there are in `total`;
nats-py 2.16's `stream_info(subjects_filter=...)` sends no offset and drops `total`, so it stops
at the first 100,000 without a word, which is why the raw API is used) and
returns a `SubjectCounts`: subject -> messages, and whether the listing was cut at the caller's
limit. `SubjectTree` turns those counts into a tree with one level per subject token
(``orders.eu.paris`` -> ``orders`` -> ``eu`` -> ``paris``); every node knows the messages below it,
so a view can show a level without walking the rest, and a level is grouped only when it is first
read (a view expands nodes only when asked).

Subjects are untrusted: nothing here formats them; whoever shows one sanitizes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

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


class SubjectNode:
    """One token of the tree: `path` is the subject up to and including it.

    A node holds the subjects below it and groups them into child nodes only when `children` is
    first read, so building a tree of 100,000 subjects costs one pass over them, and each level
    costs a pass over its own part when a view opens it.
    """

    __slots__ = ("_below", "_children", "messages", "own", "path", "subjects", "token")

    def __init__(
        self, token: str, path: str, below: Mapping[str, int], own: int | None = None
    ) -> None:
        self.token = token
        self.path = path
        self.own = own
        """Messages on exactly `path` (None when no stored subject ends here)."""
        self._below = below
        self._children: dict[str, SubjectNode] | None = None
        self.messages = (own or 0) + sum(below.values())
        """Messages on this subject and every subject below it."""
        self.subjects = (own is not None) + len(below)
        """Stored subjects at or below this node."""

    @property
    def children(self) -> dict[str, SubjectNode]:
        """The next tokens, each with the subjects below it (grouped on first use)."""
        if self._children is None:
            self._children = _group(self.path, self._below)
            self._below = {}  # held by the children now
        return self._children

    @property
    def has_children(self) -> bool:
        return bool(self._below) or bool(self._children)

    def sorted_children(self) -> list[SubjectNode]:
        children = self.children
        return [children[token] for token in sorted(children)]

    @property
    def wildcard(self) -> str:
        """The subject filter for the messages below this node: the subject itself for a leaf,
        ``a.b.>`` otherwise (which does not take ``a.b`` itself: `own` counts those)."""
        return self.path if not self.has_children else f"{self.path}.>"


def _group(path: str, below: Mapping[str, int]) -> dict[str, SubjectNode]:
    """The child nodes of the node at `path` (\"\" for the root) from the subjects below it."""
    skip = len(path) + 1 if path else 0
    groups: dict[str, dict[str, int]] = {}
    own: dict[str, int] = {}
    for subject, messages in below.items():
        token, dot, _rest = subject[skip:].partition(".")
        if dot:
            groups.setdefault(token, {})[subject] = messages
        else:
            own[token] = messages
            groups.setdefault(token, {})
    prefix = f"{path}." if path else ""
    return {
        token: SubjectNode(token, prefix + token, group, own.get(token))
        for token, group in groups.items()
    }


class SubjectTree:
    """Subjects split into tokens, counts summed per node; levels are grouped as they are read."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.root = SubjectNode(token="", path="", below=dict(counts))

    def walk(self) -> Iterator[SubjectNode]:
        """Every node below the root, depth first in token order (groups every level)."""
        stack = list(reversed(self.root.sorted_children()))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.sorted_children()))
