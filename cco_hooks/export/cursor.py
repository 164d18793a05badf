"""Where OTLP export has got to in a ledger: a durable cursor per signal, and the one-exporter lock.

The cursor is ``<ledger>.export.json`` (0600, written whole through ``files.write_private`` with
``durable=True``: fsync before the rename). Per signal (``metrics``, ``logs``) it holds the byte
offset of the first ledger line not yet acknowledged by the collector, and, while a batch is on
its way, ``inflight``: the byte range being sent. The ledger is append-only, so an offset names a
record for good; the ledger's device and inode are kept beside it, so a ledger replaced by another
file (rotated, restored) is exported from its start instead of from a stale offset.

The exporter's order for each batch, and what a crash at each point means:

1. ``inflight`` is written (durable) — a crash before this: nothing was sent, nothing is lost.
2. the batch is sent and the collector acknowledges it (HTTP 2xx, gRPC OK).
3. the offset moves past the batch and ``inflight`` is cleared (durable).

A collector that refuses or cannot be reached leaves the offset where it was: the batch is sent
again by the next run. A crash between 2 and 3 (after the acknowledgement, before the fsync'd
rename: a window of one small file write) is the one way a record is sent twice: the next run
finds ``inflight`` set, cannot know whether the collector kept the batch, and sends it again,
marked ``cco_hooks.export.retry`` in its log records, whose ``cco_hooks.record.id`` (ledger,
inode, offset) lets a backend drop the copy. Nothing is ever skipped.

The lock ``<ledger>.export.lock`` (``flock``) lets one exporter run per ledger; the others leave at
once (a hook's detached exporter) or wait (``cco-hooks export``).
"""

from __future__ import annotations

import errno
import fcntl
import os
import time

from cco_hooks import fastjson, files

CURSOR_SUFFIX = ".export.json"
LOCK_SUFFIX = ".export.lock"
SIGNALS = ("metrics", "logs")
_CAP = 64 * 1024


def cursor_path(ledger_path: str) -> str:
    return ledger_path + CURSOR_SUFFIX


def lock_path(ledger_path: str) -> str:
    return ledger_path + LOCK_SUFFIX


def ledger_identity(ledger_path: str):
    """``(device, inode, size)`` of the ledger, or ``None`` when there is none yet."""
    try:
        st = os.stat(ledger_path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size


def load(ledger_path: str) -> dict:
    """The cursor, fitted to the ledger as it is now: a missing or unreadable cursor, or one kept for
    another file at this name, starts at 0 (``reset`` says why)."""
    identity = ledger_identity(ledger_path)
    try:
        saved = files.read_own_json_object(cursor_path(ledger_path), _CAP)
    except (OSError, ValueError):
        saved = None
    cursor = {"v": 1, "device": None, "inode": None, "signals": {}, "reset": None}
    if identity is not None:
        cursor["device"], cursor["inode"] = identity[0], identity[1]
    if not isinstance(saved, dict):
        cursor["signals"] = {name: {"offset": 0, "inflight": None} for name in SIGNALS}
        return cursor
    same_file = identity is not None and (saved.get("device"), saved.get("inode")) == identity[:2]
    for name in SIGNALS:
        entry = (saved.get("signals") or {}).get(name)
        offset = entry.get("offset") if isinstance(entry, dict) else None
        inflight = entry.get("inflight") if isinstance(entry, dict) else None
        if not same_file or not isinstance(offset, int) or offset < 0 or offset > identity[2]:
            if identity is not None and saved.get("inode") is not None:
                cursor["reset"] = "the ledger is another file than the one the cursor was kept for"
            offset, inflight = 0, None
        if not (isinstance(inflight, list) and len(inflight) == 2 and all(isinstance(x, int) for x in inflight)):
            inflight = None
        cursor["signals"][name] = {"offset": offset, "inflight": inflight}
    return cursor


def save(ledger_path: str, cursor: dict) -> None:
    data = {key: cursor[key] for key in ("v", "device", "inode", "signals")}
    data["saved_at"] = time.time()
    files.write_private(cursor_path(ledger_path), fastjson.dumps(data), durable=True)


class exclusive:
    """``with exclusive(ledger, wait_s) as ok:`` holds the exporter lock; ``ok`` is False when
    another exporter holds it past ``wait_s`` seconds (0: do not wait)."""

    def __init__(self, ledger_path: str, wait_s: float = 0.0) -> None:
        self.path = lock_path(ledger_path)
        self.wait_s = wait_s
        self.fd = None

    def __enter__(self) -> bool:
        files.make_private_dirs(os.path.dirname(os.path.abspath(self.path)))
        fd = files.open_own(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        files.tighten_mode(fd)
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.fd = fd
                return True
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EINTR):
                    os.close(fd)
                    raise
            if time.monotonic() >= deadline:
                os.close(fd)
                return False
            time.sleep(0.05)

    def __exit__(self, *exc_info) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def read_lines(ledger_path: str, start: int, max_records: int, max_bytes: int = 8 << 20):
    """``(end, [(offset, line_bytes)])``: the complete lines from ``start`` on, at most
    ``max_records`` of them; ``end`` is the offset after the last one returned. A torn last line
    (no newline yet) is left for a later run."""
    try:
        fd = files.open_own(ledger_path, os.O_RDONLY)
    except FileNotFoundError:
        return start, []
    try:
        data = os.pread(fd, max_bytes, start)
    finally:
        os.close(fd)
    lines = []
    position = start
    cursor = 0
    while len(lines) < max_records:
        cut = data.find(b"\n", cursor)
        if cut < 0:
            break
        line = data[cursor:cut]
        if line.strip():
            lines.append((position, line))
        position += cut + 1 - cursor
        cursor = cut + 1
    if not lines and cursor == 0 and len(data) == max_bytes:
        raise ValueError(f"a ledger line at byte {start} of {ledger_path} is longer than {max_bytes} bytes")
    return position, lines
