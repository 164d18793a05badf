"""The summary on disk: ``<ledger>.summary``, and the spill files a full scan merges into it.

The file: ``MAGIC``, ``PY_TAG``, the footer's offset (8 bytes), the ``PARTS`` partitions (each a
marshal of ``(rows, sessions)``, its CRC-32 in the footer), then the footer: a marshal of the offset
scanned and the checks (ledger device and inode, CRC-32s of its first ``HEAD_BYTES`` and of the
last line scanned), the rollups, the session share and session fingerprints per partition, the
drift counts and offsets;
last, the CRC-32 of the footer (4 bytes, little-endian). The totals a report prints come from the
footer's rollups, so a footer that fails its CRC-32, or holds a value of the wrong type or shape
(``_well_formed``), is not used: the ledger is scanned again, and the total is right.

It is written one partition at a time (never the whole file in memory) to a temporary file beside
it, 0600, renamed over; the summary then reads its partitions from that open file. A damaged
partition fails its CRC-32 when read (``summary.DamagedSummary``).
"""

import marshal
import os
import sys
import tempfile
import zlib

from cco_hooks import files, zones
from cco_hooks.report.rows import ROLLUP_DIMS, WIDTH
from cco_hooks.report.summary import PARTS, LedgerSummary, merge_into, share_and_marks

SUMMARY_SUFFIX = ".summary"
SUMMARY_FORMAT = (
    7  # 7: the session fingerprints per partition; 6: the footer's own CRC-32; 5: the rows' time zone in the footer
)
MAGIC = b"cco-hooks report summary\n"
# marshal's format belongs to the interpreter: a summary written by another Python is rebuilt.
PY_TAG = f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]}\n".encode()
HEAD_BYTES = 4096
FOOTER_CRC_BYTES = 4


def summary_path(ledger_path, zone=None):
    """``<ledger>.summary`` for days in UTC; ``<ledger>.tz-<crc>.summary`` for another time zone,
    so reports in two zones each keep their own (a row's day depends on the zone)."""
    if zone is None or zone.ident == "UTC":
        return ledger_path + SUMMARY_SUFFIX
    return f"{ledger_path}.tz-{zlib.crc32(zone.ident.encode('utf-8', 'surrogatepass')):08x}{SUMMARY_SUFFIX}"


def crc_range(f, start, length):
    """The CRC-32 of ``length`` bytes of ``f`` from ``start``, or None if the file is shorter."""
    f.seek(start)
    data = f.read(length)
    return zlib.crc32(data) if len(data) == length else None


class Spill:
    """Where a full scan puts its per-session rows and session records, a partition's chunk at a
    time, until they are merged partition by partition (``write_file``). Beside the ledger, else
    in the temporary directory."""

    def __init__(self, directory, ledger_path):
        prefix = os.path.basename(ledger_path) + SUMMARY_SUFFIX + ".tmp"  # a side file to --ledger globs
        try:
            fd, self.name = tempfile.mkstemp(prefix=prefix + ".spill.", dir=directory)
        except OSError:
            fd, self.name = tempfile.mkstemp(prefix="cco-hooks-report.spill.")
        self.f = os.fdopen(fd, "w+b")
        self.pos = 0
        self.index = []  # (partition, offset, length), in file order

    def write(self, by_part):
        for p, item in by_part.items():
            data = marshal.dumps(item)
            self.f.write(data)
            self.index.append((p, self.pos, len(data)))
            self.pos += len(data)

    def close(self):
        self.f.close()


class MemorySpill:
    """A small full scan's rows and session records, merged by partition in memory as they come
    (in file order) instead of being spilled to a file and read back: what ``write_file`` would
    have merged from the chunks, without marshalling them twice (``update.IN_MEMORY_BYTES``)."""

    name = None

    def __init__(self):
        self.parts = {}  # partition -> (rows, sessions)

    def write(self, by_part):
        for p, (rows, records) in by_part.items():
            part = self.parts.get(p)
            if part is None:
                self.parts[p] = (rows, records)  # the batch's own dicts: nothing else holds them
            else:
                merge_into(part, rows, records)

    def close(self):
        pass


def _spill_chunks(spills):
    """``{partition: [(path, offset, length), ...]}`` in file order, over the spills in order."""
    out = {}
    for name, index in spills:
        for p, off, n in index:
            out.setdefault(p, []).append((name, off, n))
    return out


# ---- reading ---------------------------------------------------------------------------------


def _read_footer(f, st):
    """The footer of an open summary file, checked for what we wrote; ``footer_at`` added."""
    # marshal is only fed what we wrote ourselves: a file of ours that nobody else can write.
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
        raise ValueError
    fixed = len(MAGIC) + len(PY_TAG)
    if f.read(fixed) != MAGIC + PY_TAG:
        raise ValueError
    footer_at = int.from_bytes(f.read(8), "little")
    if not fixed + 8 <= footer_at < st.st_size:
        raise ValueError
    f.seek(footer_at)
    data = f.read()
    body, stored = data[:-FOOTER_CRC_BYTES], data[-FOOTER_CRC_BYTES:]
    if len(data) <= FOOTER_CRC_BYTES or zlib.crc32(body) != int.from_bytes(stored, "little"):
        raise ValueError  # a flipped bit, a truncated or overwritten footer
    footer = marshal.loads(body)
    if not _well_formed(footer):
        raise ValueError
    for where in footer["parts"]:
        if where is not None and (where[0] < fixed + 8 or where[0] + where[1] > footer_at):
            raise ValueError
    return footer


def _is_int(value, low=0):
    return type(value) is int and value >= low


def _ints(value, count):
    return type(value) in (list, tuple) and len(value) == count and all(type(v) is int for v in value)


def _is_key_field(value):
    return value is None or type(value) is str


def _well_formed(footer):
    """Every value of the footer of the type and shape ``_footer`` writes: a summary whose checksum
    holds but whose contents do not (another writer, a bug) is rebuilt, never a traceback later."""
    if type(footer) is not dict:
        return False
    try:
        if not (
            footer["format"] == SUMMARY_FORMAT
            and footer["parts_count"] == PARTS
            and type(footer["zone"]) is str
            and _ints(footer["ident"], 2)
            and _is_int(footer["offset"])
            and _ints(footer["head"], 2)
            and _ints(footer["last"], 3)
            and _is_int(footer["skipped"])
            and type(footer["drift_offsets"]) is bytes
            and len(footer["drift_offsets"]) % 8 == 0
        ):
            return False
        parts, rollups, shares, drift = footer["parts"], footer["rollups"], footer["shares"], footer["drift"]
        marks = footer["marks"]
    except KeyError:
        return False
    if type(marks) is not list or len(marks) != PARTS:
        return False
    if not all(m is None or (type(m) is bytes and len(m) % 8 == 0) for m in marks):
        return False
    if type(parts) is not list or len(parts) != PARTS:
        return False
    if not all(where is None or (_ints(where, 3) and where[0] >= 0 and where[1] >= 0) for where in parts):
        return False
    if type(rollups) is not dict or not set(rollups) <= set(ROLLUP_DIMS):
        return False
    for groups in rollups.values():
        if type(groups) is not dict:
            return False
        for group, row in groups.items():
            if not (_is_key_field(group) and _ints(row, WIDTH)):
                return False
    if type(shares) is not list or len(shares) != PARTS:
        return False
    for share in shares:
        if share is None:
            continue
        if type(share) is not list or len(share) != 4 or not _ints(share[:3], 3) or type(share[3]) is not dict:
            return False
        if not all(_is_key_field(project) and _ints(pair, 2) for project, pair in share[3].items()):
            return False
    if type(drift) is not dict:
        return False
    return all(
        type(key) is tuple and key and all(_is_key_field(v) for v in key) and _is_int(count)
        for key, count in drift.items()
    )


def load_saved(ledger_path, zone=None):
    """The saved summary for days in ``zone`` (UTC by default; its footer read, its partitions
    left on disk), or None if it is missing, foreign, damaged, from another Python or built for
    another time zone."""
    zone = zone or zones.UTC
    try:
        # Never through a link, never blocking on a pipe; only our own regular file (else rebuilt).
        f = os.fdopen(files.open_own(summary_path(ledger_path, zone), os.O_RDONLY), "rb")
    except OSError:
        return None
    try:
        footer = _read_footer(f, os.fstat(f.fileno()))
        if footer["zone"] != zone.ident:
            raise ValueError
        s = LedgerSummary(ledger_path, zone)
        s.ident = tuple(footer["ident"])
        s.offset = int(footer["offset"])
        s.head = tuple(footer["head"])
        s.last = tuple(footer["last"])
        s.skipped = int(footer["skipped"])
        s.rollups = footer["rollups"]
        s.shares = footer["shares"]
        s.marks = footer["marks"]
        s.drift = footer["drift"]
        s.drift_offsets.frombytes(footer["drift_offsets"])
        if (
            type(s.rollups) is not dict
            or type(s.drift) is not dict
            or type(s.shares) is not list
            or len(s.shares) != PARTS
        ):
            raise ValueError
        s.part_spans = [None if where is None else tuple(where) for where in footer["parts"]]
    except (OSError, EOFError, ValueError, TypeError, KeyError, IndexError, OverflowError, MemoryError):
        f.close()
        return None
    s.file = f
    s.rebuilt = False
    return s


def still_valid(saved, f, st):
    """True when the ledger (open as ``f``, stat ``st``) still begins with exactly the bytes the
    summary was built from."""
    if saved.ident != (st.st_dev, st.st_ino) or st.st_size < saved.offset:
        return False
    head_len, head_crc = saved.head
    if head_len != min(HEAD_BYTES, saved.offset) or crc_range(f, 0, head_len) != head_crc:
        return False
    start, length, crc = saved.last
    if saved.offset and (start + length != saved.offset or crc_range(f, start, length) != crc):
        return False
    return True


# ---- writing ---------------------------------------------------------------------------------


def _merged_partition(summary, p, chunks, opened):
    """Partition ``p`` merged from a full scan's spilled chunks (in file order), as bytes or None;
    its part of the session share is kept in the summary."""
    part = ({}, {})
    for name, off, n in chunks.get(p, ()):
        g = opened.get(name)
        if g is None:
            g = opened[name] = open(name, "rb")
        g.seek(off)
        rows, recs = marshal.loads(g.read(n))
        merge_into(part, rows, recs)
    return _finished_partition(summary, p, part)


def _finished_partition(summary, p, part):
    summary.shares[p], summary.marks[p] = share_and_marks(part)
    return marshal.dumps(part) if part[0] or part[1] else None


def _partition_bytes(summary, p):
    """Partition ``p`` as it is now: changed in memory, or copied from the file it is in."""
    if p in summary.loaded:
        part = summary.loaded[p]
        return marshal.dumps(part) if part[0] or part[1] else None
    if summary.part_spans is not None and summary.part_spans[p] is not None:
        off, n, _crc = summary.part_spans[p]
        summary.file.seek(off)
        return summary.file.read(n)  # one partition: a small fraction of the rows
    return None


def _footer(summary, parts):
    return marshal.dumps(
        {
            "format": SUMMARY_FORMAT,
            "parts_count": PARTS,
            "zone": summary.zone.ident,
            "ident": list(summary.ident),
            "offset": summary.offset,
            "head": list(summary.head),
            "last": list(summary.last),
            "skipped": summary.skipped,
            "parts": parts,
            "rollups": summary.rollups,
            "shares": summary.shares,
            "marks": summary.marks,
            "drift": summary.drift,
            "drift_offsets": summary.drift_offsets.tobytes(),
        }
    )


def write_file(summary, out, spills=None):
    """Write the summary into ``out`` (open, empty, readable): the partitions one at a time (from
    the full scan's ``spills``, files or a ``MemorySpill``, or the ones changed in memory, or
    copied from the file they are in), then the footer. Afterwards the summary reads its partitions from ``out``."""
    fixed = MAGIC + PY_TAG
    out.write(fixed + bytes(8))
    pos = len(fixed) + 8
    memory = spills.parts if isinstance(spills, MemorySpill) else None
    chunks = _spill_chunks(spills) if spills is not None and memory is None else None
    opened = {}
    parts = []
    try:
        for p in range(PARTS):
            if memory is not None:
                data = _finished_partition(summary, p, memory.get(p, ({}, {})))
            elif chunks is not None:
                data = _merged_partition(summary, p, chunks, opened)
            else:
                data = _partition_bytes(summary, p)
            if data is None:
                parts.append(None)
                continue
            out.write(data)
            parts.append((pos, len(data), zlib.crc32(data)))
            pos += len(data)
    finally:
        for g in opened.values():
            g.close()
    footer = _footer(summary, parts)
    out.write(footer + zlib.crc32(footer).to_bytes(FOOTER_CRC_BYTES, "little"))
    out.seek(len(fixed))
    out.write(pos.to_bytes(8, "little"))
    out.flush()
    if summary.file is not None and summary.file is not out:
        summary.file.close()
    summary.file = out
    summary.part_spans = parts
    summary.loaded = {}


def write_beside(summary, spills=None):
    """Write the summary beside its ledger (atomically, 0600); False when we cannot. An error
    once the summary reads its partitions from the new file is raised (the file stays open)."""
    path = summary_path(summary.path, summary.zone)
    try:
        files.check_own(path)  # a link, a pipe or another user's file there is left as it is
        replacement = files.Replacement(path)
    except OSError:
        return False
    out = os.fdopen(replacement.fd, "w+b")
    try:
        write_file(summary, out, spills)
        replacement.commit()
    except OSError:
        replacement.discard()
        if summary.file is out:  # the partitions are in it: keep it open, unnamed
            raise
        out.close()
        return False
    except BaseException:
        out.close()
        replacement.discard()
        raise
    summary.changed = False
    return True


def save(summary):
    """Write the summary beside its ledger; silently skipped when we cannot."""
    try:
        return write_beside(summary)
    except OSError:
        return False
