"""Key/value buckets and object stores seen from the Streams pane: which pane manages them, and
the warning before a purge or a delete of their backing stream, a delete of one of its messages
or an NDJSON import into it (the subjects view and the message browser ask through the pane).

A bucket `config` is the stream `KV_config` (`StreamSummary.bucket` recognises it); purging or
deleting it from the Streams pane removes keys or the whole bucket, which the user may not mean
when it looks like one more stream. So the pane asks first, names the bucket and the pane that
manages it (its number key from the registry), and only then goes on as for any stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from jstui.format.text import sanitize
from jstui.widgets.registry import entry_named

if TYPE_CHECKING:
    from textual.app import App

    from jstui.nats.streams.summaries import Bucket, StreamSummary

__all__ = ["confirm_bucket_change", "managing_pane"]

PANE_OF = {"kv": "kv", "obj": "objects"}
"""The registry name of the pane that manages each kind of bucket."""

EFFECTS = {
    ("kv", "purge"): "removes keys with their history, as if deleted without a trace",
    ("kv", "delete"): "deletes the bucket with every key",
    ("obj", "purge"): "removes objects' chunks and descriptions: objects break or vanish",
    ("obj", "delete"): "deletes the object store with every object",
    ("kv", "delete message"): "removes one revision of a key behind the bucket's back",
    ("obj", "delete message"): "removes a chunk or a description: an object breaks or vanishes",
    ("kv", "import"): "writes key revisions behind the bucket's back (the subject names the key)",
    ("obj", "import"): "writes chunks and descriptions by hand: a wrong line breaks objects",
}

GERUNDS = {
    "purge": "Purging",
    "delete": "Deleting",
    "delete message": "Deleting a message of",
    "import": "Importing into",
}
VERBS = {
    "purge": "Purge",
    "delete": "Delete",
    "delete message": "Delete a message of",
    "import": "Import into",
}


def managing_pane(bucket: Bucket) -> str:
    """ "the Key/Value pane (key 8)", or what to say when no pane of this build manages it."""
    try:
        entry = entry_named(PANE_OF[bucket.kind])
    except ValueError:
        return "no pane of this jstui (use the nats CLI or a client library)"
    return f"the {entry.title} pane (key {entry.key})"


async def confirm_bucket_change(app: App[object], summary: StreamSummary, action: str) -> bool:
    """True when `summary` is no bucket, or when the user, told what it is, goes on anyway."""
    from jstui.dialogs.confirm import ConfirmScreen  # on first use (start-up)

    bucket = summary.bucket
    if bucket is None:
        return True
    question = Text.assemble(
        "Stream ",
        (sanitize(summary.name), "bold"),
        f" is not an ordinary stream: it keeps the {bucket.label} ",
        (sanitize(bucket.name), "bold"),
        f", managed in {managing_pane(bucket)}.\n",
        f"{GERUNDS[action]} it here {EFFECTS[(bucket.kind, action)]}. ",
        f"{VERBS[action]} the stream anyway?",
    )
    article = "an" if bucket.label[0] in "aeiou" else "a"
    title = f"{VERBS[action]} {article} {bucket.label}?"
    confirmed: bool = await app.push_screen_wait(
        ConfirmScreen(title, question, confirm_label=f"{action.capitalize()} anyway")
    )
    return confirmed
