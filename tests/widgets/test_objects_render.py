"""The Object stores pane's pure parts: meta messages read defensively, rows built sanitized,
file names made safe, progress said in human units."""

from __future__ import annotations

import hashlib
import json

from jstui.dialogs.object_transfer import progress_text, safe_file_name
from jstui.nats.objects.model import ObjectEntry, digest_hex, digest_text, meta_subject
from jstui.nats.objects.transfer import Transfer
from jstui.widgets.objects.render import object_cells

HOSTILE = "ok\x1b]52;c;cGF3bmVk\x07\x1b[2J\u202eevil"


def meta(**fields: object) -> bytes:
    base: dict[str, object] = {"name": "a", "bucket": "b", "nuid": "N", "size": 3, "chunks": 1}
    return json.dumps({**base, **fields}).encode()


def test_meta_messages_are_read_defensively() -> None:
    for junk in (b"", b"not json", b"[1]", b'{"name": 7}', b"[" * 100_000):
        assert ObjectEntry.from_meta(junk) is None
    entry = ObjectEntry.from_meta(meta(size=-5, chunks="x", mtime="yesterday", options=[]))
    assert entry is not None
    assert (entry.size, entry.chunks, entry.modified, entry.is_link) == (0, 0, None, False)
    link = ObjectEntry.from_meta(meta(options={"link": {"bucket": "other", "name": "x"}}))
    assert link is not None and (link.link_bucket, link.link_name) == ("other", "x")


def test_rows_are_sanitized_and_digests_shown_as_sha256sum_prints_them() -> None:
    sha = hashlib.sha256(b"abc").digest()
    entry = ObjectEntry.from_meta(
        meta(
            name=HOSTILE, description=HOSTILE, digest=digest_text(sha), mtime="2026-01-02T03:04:05Z"
        )
    )
    assert entry is not None
    cells = object_cells(entry)
    assert all(cell.isprintable() for cell in cells)
    assert cells[3] == sha.hex()[:12]
    assert digest_hex(digest_text(sha)) == sha.hex()
    assert digest_hex("SHA-256=not base64!") == digest_hex("MD5=xyz") == ""


def test_meta_subjects_match_what_nats_clients_write() -> None:
    # nats.go and nats-py: base64url of the name, padding kept.
    assert meta_subject("b", "docs/a b.txt") == "$O.b.M.ZG9jcy9hIGIudHh0"
    assert meta_subject("b", "ab") == "$O.b.M.YWI="


def test_file_names_for_objects_are_safe() -> None:
    assert safe_file_name("docs/report.pdf") == "report.pdf"
    assert safe_file_name(HOSTILE) == "ok_52_c_cGF3bmVk_2J_evil"
    assert safe_file_name("../..") == "object"
    assert safe_file_name(".bashrc") == "bashrc"
    assert safe_file_name("dir/") == "object"


def test_progress_is_said_in_human_units() -> None:
    transfer = Transfer(total=200 * 2**20, done=50 * 2**20)
    transfer.started -= 2.0
    text = progress_text(transfer)
    assert text.startswith("50.0 MiB of 200.0 MiB · 25.0 MiB/s · ")
    assert text.endswith("s left")
    transfer.done = transfer.total
    transfer.finish(b"\0" * 32, "")
    assert progress_text(transfer).startswith("Done: 200.0 MiB in ")
    assert transfer.verified is False
