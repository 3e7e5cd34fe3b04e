"""The names the demo uses on a server: the tutorial's own, or ones that cannot clash.

On jstui's own server (embedded or the demo cluster) the story uses the tutorial's names, so the
tutorial's scripts can join it (`jstui demo --port 4222`). On someone else's server (`--server`)
every stream, consumer and subject carries `jstui_demo_<token>`, a random token per run: two
demos, or a real `example_stream`, never meet, and removing what the demo made on exit removes
nothing else.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

DEMO_PREFIX = "jstui_demo"


@dataclass(frozen=True)
class DemoNames:
    """Every name the demo's objects and messages carry."""

    stream: str
    subject_root: str
    """The subjects' common start: the stream captures `<root>.*`."""
    workers: str
    """The deliver group of the workers, also the name of their durable consumer."""
    replier: str
    """The durable consumer the replier answers requests from."""
    deliver_root: str
    """The push consumers deliver to `<deliver_root>.<consumer>`, outside the stream's subjects."""
    private: bool
    """True on someone else's server: names that cannot clash, removed on exit."""

    @property
    def wildcard(self) -> str:
        return f"{self.subject_root}.*"

    @property
    def test_subject(self) -> str:
        """Where the publisher sends "Message N"."""
        return f"{self.subject_root}.test"

    @property
    def requests_subject(self) -> str:
        """Where the requester stores its requests (a `reply-to` header says where to answer)."""
        return f"{self.subject_root}.requests"

    @property
    def workers_deliver_subject(self) -> str:
        """The workers' consumer delivers here, fixed, so that workers starting together cannot
        replace each other's consumer (the deliver-group race of `js.subscribe(queue=...)`)."""
        return f"{self.deliver_root}.{self.workers}"

    @property
    def replier_deliver_subject(self) -> str:
        return f"{self.deliver_root}.{self.replier}"

    @property
    def watch(self) -> str:
        """The workers' group as `--watch` names it: STREAM/CONSUMER."""
        return f"{self.stream}/{self.workers}"


def tutorial_names() -> DemoNames:
    """The tutorial's names, for a server of jstui's own."""
    return DemoNames(
        stream="example_stream",
        subject_root="my.subject",
        workers="workers",
        replier="replier",
        deliver_root="deliver",
        private=False,
    )


def private_names(token: str | None = None) -> DemoNames:
    """Names of this run only (`jstui_demo_<token>_…`), for someone else's server."""
    prefix = f"{DEMO_PREFIX}_{token or secrets.token_hex(3)}"
    return DemoNames(
        stream=f"{prefix}_stream",
        subject_root=f"{prefix}.subject",
        workers=f"{prefix}_workers",
        replier=f"{prefix}_replier",
        deliver_root=f"{prefix}.deliver",
        private=True,
    )
