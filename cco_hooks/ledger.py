"""The JSONL ledger: one atomic append per record under an exclusive lock; torn-line tolerant reads.

Stdlib only and import-light: every hook appends through it.

Writing: each record is one compact JSON line (ASCII, so no raw newline can hide inside), written
with ONE ``os.write`` on an ``O_APPEND`` descriptor while holding ``fcntl.flock(LOCK_EX)`` on the
sibling ``<ledger>.lock``. Parallel hooks (parallel spawns) therefore never interleave. An append
that fails part-way (disk full, quota) truncates the ledger back to where it started and raises. If
a previous writer died mid-line (kill -9, power loss) the file does not end with ``\\n``; the next
append starts with one, so only the torn fragment is lost, never the new record.

Permissions: the ledger and its lock are 0600, directories created for them 0700 (existing
directories are left alone: the ledger may be pointed into a shared place). Both must be regular
files the user owns (``files.open_own``: never through a link, never a pipe or a device, the mode
set on the descriptor): anything else raises ``files.UnsafeFile`` and is left exactly as it was.

Reading: ``iter_records`` yields each complete (newline-terminated) JSON object line; blank lines are
ignored; a line that is not a JSON object (torn, corrupt, garbage) and an unterminated last line are
skipped and counted in ``stats["skipped"]``. It never raises for bad content.
"""

import _stat as stat  # stat.py is this C module with one more import
import errno
import time

from cco_hooks import c_module, fastjson, files, hookio
from cco_hooks.fastos import os

fcntl = c_module("fcntl")  # import fcntl, without importlib's path finder (see there)

LOCK_SUFFIX = ".lock"
# Seconds one wait may last; a hook process also stops at its own deadline (``hookio.wait_until``:
# all its waits together stay inside its registered timeout). Past it the hook goes on without
# the lock rather than hang.
LOCK_TIMEOUT = 10.0
FILE_MODE = 0o600
READ_CHUNK = 1 << 20

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_held: dict = {}  # lock path → (fd, depth) held by this process


def lock_path(path: str) -> str:
    return path + LOCK_SUFFIX


def _open_private(path: str, flags: int) -> int:
    """A descriptor of our regular file ``path`` (created 0600), re-chmodded 0600 through it; raises
    ``files.UnsafeFile`` for a link, pipe, device or another user's file, touching nothing."""
    files.make_private_dirs(os.path.dirname(os.path.abspath(path)))
    fd = files.open_own(path, flags | os.O_CREAT, FILE_MODE)
    files.tighten_mode(fd, FILE_MODE)
    return fd


class locked:
    """``with ledger.locked(path) as ok:`` holds the ledger's exclusive lock (re-entrant within the
    process). ``ok`` is False when the lock could not be had within ``timeout`` seconds, or by the
    hook process's deadline if that comes first (``hookio.wait_until``), or the lock file cannot be
    created; the body then runs unlocked and should do only what is safe so. A lock name holding a
    link, a pipe, a device or another user's file raises ``files.UnsafeFile``: nothing is to be
    written beside it."""

    __slots__ = ("key", "timeout", "ok")

    def __init__(self, path: str, timeout: float = LOCK_TIMEOUT) -> None:
        self.key = lock_path(os.path.abspath(path))
        self.timeout = timeout
        self.ok = False

    def __enter__(self) -> bool:
        held = _held.get(self.key)
        if held is not None:
            _held[self.key] = (held[0], held[1] + 1)
            self.ok = True
            return True
        try:
            fd = _open_private(self.key, os.O_RDWR)
        except files.UnsafeFile:
            raise
        except OSError:
            return False
        deadline = hookio.wait_until(self.timeout)
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EINTR):
                    os.close(fd)
                    return False
            left = deadline - time.monotonic()
            if left <= 0:
                os.close(fd)
                return False
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.02)
        _held[self.key] = (fd, 1)
        self.ok = True
        return True

    def __exit__(self, *exc_info) -> None:
        if not self.ok:
            return
        fd, depth = _held[self.key]
        if depth > 1:
            _held[self.key] = (fd, depth - 1)
            return
        del _held[self.key]
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def encode(record: dict) -> bytes:
    return (fastjson.dumps(record) + "\n").encode("ascii")


def append(path: str, record: dict) -> None:
    """Append ``record`` as one line: one write, O_APPEND, under the exclusive lock."""
    data = encode(record)
    with locked(path):
        fd = _open_private(path, os.O_RDWR | os.O_APPEND)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a torn last line must not swallow this record
            view = memoryview(data)
            try:
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            except OSError:
                # Disk full, quota, I/O error: take back the part written, so no torn line is left
                # (the caller keeps the spawn pending and appends it again later). Should the
                # truncate fail too, the next append starts on a new line (above).
                try:
                    os.ftruncate(fd, size)
                except OSError:
                    pass
                raise
        finally:
            os.close(fd)


def _parse_line(line: bytes, stats: dict | None):
    if not line.strip():
        return None
    try:
        obj = fastjson.loads(line.decode("utf-8"))
    except Exception:  # noqa: BLE001 - torn / corrupt line
        obj = None
    if isinstance(obj, dict):
        if stats is not None:
            stats["records"] = stats.get("records", 0) + 1
        return obj
    if stats is not None:
        stats["skipped"] = stats.get("skipped", 0) + 1
    return None


def iter_records(path: str, stats: dict | None = None, offset: int = 0):
    """Yield every record (dict) of the ledger; skip and count (``stats["skipped"]``) lines that are
    not JSON objects, the torn last line included. A missing ledger yields nothing.
    ``stats["end"]`` is the byte offset after the last complete line (for incremental readers)."""
    if stats is not None:
        stats.setdefault("records", 0)
        stats.setdefault("skipped", 0)
        stats["end"] = offset
    try:
        fd = os.open(path, os.O_RDONLY | _O_CLOEXEC | files.O_NONBLOCK | files.O_NOFOLLOW)
    except OSError:
        return
    try:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return
            if offset:
                os.lseek(fd, offset, os.SEEK_SET)
        except OSError:
            return
        position = offset
        pending = b""
        while True:
            try:
                chunk = os.read(fd, READ_CHUNK)
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            cut = pending.rfind(b"\n")
            if cut < 0:
                continue
            block, pending = pending[: cut + 1], pending[cut + 1 :]
            for line in block.split(b"\n")[:-1]:
                obj = _parse_line(line, stats)
                if obj is not None:
                    yield obj
            position += cut + 1
            if stats is not None:
                stats["end"] = position
        if pending.strip() and stats is not None:
            # The last line has no newline: torn (kill -9, power loss) or still being written. It is
            # skipped and counted, and ``end`` stays before it; the next append starts on a new
            # line, so a whole record there is read (once) after that.
            stats["skipped"] = stats.get("skipped", 0) + 1
    finally:
        os.close(fd)


def read_records(path: str) -> tuple:
    """``(records, skipped)``."""
    stats: dict = {}
    records = list(iter_records(path, stats))
    return records, stats.get("skipped", 0)
