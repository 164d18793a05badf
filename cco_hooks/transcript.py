"""Read Claude Code transcripts robustly: usage per API request, the cost-state line, meta files.

Stdlib only and import-light: the hooks read subagent transcripts with it.

A transcript is JSONL. Lines with ``"type": "assistant"`` carry ``message.id``, ``message.model`` and
``message.usage``; one API response may be written as several lines (one per content block)
repeating its usage, so each ``message.id`` is counted once. A transcript may be read while Claude
Code is still writing it (SubagentStop can fire before the final message is on disk): a torn last
line, non-JSON lines and lines of the wrong shape are skipped and counted, never fatal. Only regular
files are read (``/dev/zero``, FIFOs and directories are refused) and only up to a size cap.

Nothing here keeps message text: the final message's text is only compared (by digest) with what
SubagentStop reported, to know that the transcript is complete.
"""

import _stat as stat  # stat.py is this C module with one more import
import time

from cco_hooks import fastjson, paths
from cco_hooks.fastos import os
from cco_hooks.pricing import EXTRA_USAGE_KEYS, USAGE_KEYS, is_empty, normalize_usage

DEFAULT_SIZE_CAP = 256 * 1024 * 1024  # bytes; a bigger transcript is refused ("too_large")
META_SIZE_CAP = 256 * 1024
TAIL_WINDOWS = (256 * 1024, 4 * 1024 * 1024, 32 * 1024 * 1024)
FINAL_STOP_REASONS = frozenset(("end_turn", "stop_sequence", "max_tokens", "refusal", "model_context_window_exceeded"))
SYNTHETIC_MODEL = "<synthetic>"

_O_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)

# errors (TranscriptUsage.error)
MISSING = "missing"
NOT_REGULAR = "not_regular"
TOO_LARGE = "too_large"
UNREADABLE = "unreadable"
NOT_ALLOWED = "not_allowed"
BAD_PATH = "bad_path"
PERMANENT_ERRORS = frozenset((NOT_REGULAR, TOO_LARGE, NOT_ALLOWED, BAD_PATH))


class TranscriptUsage:
    """What one read of a transcript found.

    ``requests``: one dict per distinct API response (``message.id``), in order of first
    appearance: ``{"id", "model", "usage"}`` with ``usage`` normalised by
    ``pricing.normalize_usage``. Synthetic (``<synthetic>``) and all-zero responses are left out
    (they cost nothing whatever the model).
    ``complete``: the file ends cleanly and its final assistant message is there — matching the
    expected text when one was given, else with a final ``stop_reason`` (``end_turn``, …).
    """

    __slots__ = (
        "path",
        "error",
        "size",
        "mtime_ns",
        "requests",
        "torn_lines",
        "skipped_lines",
        "torn_tail",
        "has_final_message",
        "last_stop_reason",
        "final",
        "matched",
        "complete",
        "first_ts",
        "last_ts",
        "version",
        "file_sig",
    )

    def __init__(self, path) -> None:
        self.path = path
        self.error: str | None = None
        self.size = 0
        self.mtime_ns = 0
        self.requests: list = []
        self.torn_lines = 0
        self.skipped_lines = 0
        self.torn_tail = False
        self.has_final_message = False
        self.last_stop_reason: str | None = None
        self.final = False
        self.matched: bool | None = None
        self.complete = False
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.version: str | None = None
        self.file_sig: tuple | None = None  # (device, inode, size, mtime_ns) of exactly the bytes read

    @property
    def readable(self) -> bool:
        return self.error is None

    def totals(self) -> dict:
        total = dict.fromkeys(USAGE_KEYS, 0)
        for req in self.requests:
            usage = req["usage"]
            for key in USAGE_KEYS:
                total[key] += usage[key]
        return total

    def models(self) -> dict:
        """model → number of requests, in order of first appearance."""
        counts: dict = {}
        for req in self.requests:
            counts[req["model"]] = counts.get(req["model"], 0) + 1
        return counts

    def duration_ms(self) -> int | None:
        if self.first_ts is None or self.last_ts is None or self.last_ts < self.first_ts:
            return None
        return int(round((self.last_ts - self.first_ts) * 1000))


# --------------------------------------------------------------------------- small helpers


def text_digest(text) -> str | None:
    """A stable digest of a message text (whitespace-trimmed); ``None`` for no text.

    Lets a pending part remember which final message to wait for without storing its text."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text:
        return None
    data = text.encode("utf-8", "replace")
    size = len(data)
    if size > 16384:
        data = data[:8192] + data[-8192:]
    data += b"\0" * (-len(data) % 8)
    h = 0xCBF29CE484222325
    mask = 0xFFFFFFFFFFFFFFFF
    from_bytes = int.from_bytes
    for i in range(0, len(data), 8):
        h = ((h ^ from_bytes(data[i : i + 8], "little")) * 0x100000001B3) & mask
    return f"{size}:{h:016x}"


def parse_iso(value) -> float | None:
    """``2026-11-25T20:12:50.593Z`` (or with ``±hh:mm``) → epoch seconds; ``None`` if not that."""
    if not isinstance(value, str) or len(value) < 19 or len(value) > 40:
        return None
    try:
        if value[4] != "-" or value[7] != "-" or value[10] not in "Tt " or value[13] != ":" or value[16] != ":":
            return None
        year, month, day = int(value[0:4]), int(value[5:7]), int(value[8:10])
        hour, minute, second = int(value[11:13]), int(value[14:16]), int(value[17:19])
        rest = value[19:]
        frac = 0.0
        if rest.startswith("."):
            i = 1
            while i < len(rest) and rest[i].isdigit():
                i += 1
            if i > 1:
                frac = float("0" + rest[:i])
            rest = rest[i:]
        offset = 0
        if rest in ("Z", "z", ""):
            pass
        elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":":
            offset = (int(rest[1:3]) * 60 + int(rest[4:6])) * 60
            if rest[0] == "-":
                offset = -offset
        else:
            return None
        if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
            return None
    except ValueError:
        return None
    # days from civil (Howard Hinnant)
    y = year - (month <= 2)
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return days * 86400 + hour * 3600 + minute * 60 + second + frac - offset


def format_iso(epoch: float) -> str:
    """Epoch seconds → ``2026-11-25T20:12:50.593Z``."""
    millis = int(round(epoch * 1000))
    seconds, millis = divmod(millis, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def _real(path: str) -> str:
    return os.path.realpath(path)


def is_under(path: str, root: str) -> bool:
    """``path`` (symlinks resolved) is inside ``root`` (symlinks resolved)."""
    try:
        real = _real(path)
        base = _real(root)
    except (OSError, ValueError):
        return False
    base = base.rstrip(os.sep) or os.sep
    return real == base or real.startswith(base if base.endswith(os.sep) else base + os.sep)


def read_roots(session_transcript) -> list:
    """Where a subagent transcript may be read from: the Claude config dir, and beside the
    session transcript."""
    roots = [paths.claude_config_dir()]
    if isinstance(session_transcript, str) and session_transcript:
        roots.append(os.path.dirname(session_transcript))
    return roots


def allowed(path, roots) -> bool:
    """``path`` is a ``.jsonl`` path under one of ``roots``."""
    if not isinstance(path, str) or not path or "\0" in path or not path.endswith(".jsonl"):
        return False
    for root in roots:
        if isinstance(root, str) and root and "\0" not in root and is_under(path, root):
            return True
    return False


def _open_regular(path, size_cap: int):
    """``(fd, stat, error)``: an fd on a regular file no bigger than ``size_cap``, else an error."""
    if not isinstance(path, str) or not path or "\0" in path or len(path) > 4096:
        return None, None, BAD_PATH
    try:
        fd = os.open(path, _O_READ)
    except FileNotFoundError:
        return None, None, MISSING
    except NotADirectoryError:
        return None, None, MISSING
    except (OSError, ValueError):
        return None, None, UNREADABLE
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        return None, None, UNREADABLE
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None, None, NOT_REGULAR
    if st.st_size > size_cap:
        os.close(fd)
        return None, None, TOO_LARGE
    return fd, st, None


def _read_all(fd, limit: int) -> bytes | None:
    """Up to ``limit`` bytes; ``None`` when the file holds more than ``limit``."""
    chunks = []
    total = 0
    while True:
        chunk = os.read(fd, min(1 << 22, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            return None
    return b"".join(chunks)


_scan_once = fastjson._scan_once


def _loads(raw: bytes):
    text = raw.decode("utf-8", "replace")
    try:
        # The common case, a whole JSON line without surrounding blanks, straight to the C scanner
        # (the hot loop of a long transcript); anything else takes the general path below.
        value, end = _scan_once(text, 0)
        if end == len(text):
            return value, True
    except Exception:  # noqa: BLE001 - the general path decides
        pass
    try:
        return fastjson.loads(text), True
    except Exception:  # noqa: BLE001 - torn or garbage line
        return None, False


# --------------------------------------------------------------------------- subagent transcripts


# The cheap bytes test that leaves every line that is not an assistant message (tool results, user
# turns, attachments: most of a long transcript) to be skipped without being decoded. An assistant
# line says ``"assistant"`` (its ``type`` and its message's ``role``) however it is spaced; inside a
# string the quotes would be escaped, so only a real value can match. A line that matches and is
# not an assistant message is decoded and then skipped. (Testing for the tighter
# ``"type":"assistant"`` would first need a search of the whole file for a spaced ``"type": ``:
# a tenth of a megabyte's reading.)
ANY_ASSISTANT = b'"assistant"'


def _candidate_lines(data: bytes, tail_start: int, needle: bytes = ANY_ASSISTANT):
    """``(offset, line)`` of the lines worth parsing, in order: the first line (its timestamp), every
    line that contains ``needle``, and the unterminated last line starting at ``tail_start`` (to
    tell a torn tail; ``-1``: none). The same as filtering ``data.split(b"\\n")`` by each line's
    offset, without copying a whole transcript into lines first, and without counting its lines
    (a hook reads up to megabytes of it, and its latency counts: counting newlines was a tenth of
    PostToolUse's work on a 1 MB transcript)."""
    size = len(data)
    end = data.find(b"\n")
    if end < 0:
        if tail_start < 0:
            return  # no line at all: blanks only
        end = size
    yield 0, data[:end]
    last = 0
    start = end + 1
    while start < size:
        hit = data.find(needle, start)
        if hit < 0:
            break
        line_start = data.rfind(b"\n", start - 1, hit) + 1
        line_end = data.find(b"\n", hit)
        line_end = size if line_end < 0 else line_end
        yield line_start, data[line_start:line_end]
        last = line_start
        start = line_end + 1
    if tail_start > last:
        yield tail_start, data[tail_start:]


def _merge_usage(old: dict, new: dict) -> None:
    """Lines of one response (one per content block) repeat its usage, the counts growing: keep the
    largest count, and the latest geo, speed and iterations a line reports."""
    for key in USAGE_KEYS:
        if new[key] > old[key]:
            old[key] = new[key]
    for key in EXTRA_USAGE_KEYS:
        if key in new:
            old[key] = new[key]


def read_usage(
    path,
    expect_last_text: str | None = None,
    size_cap: int = DEFAULT_SIZE_CAP,
    *,
    expect_digest: str | None = None,
    roots=None,
) -> TranscriptUsage:
    """Read a (subagent) transcript; never raises.

    ``expect_last_text`` (or its ``text_digest``, ``expect_digest``): the final assistant message
    SubagentStop reported; ``complete`` is True only once the transcript ends with it.
    ``roots``: when given, the path must be a ``.jsonl`` under one of them (else ``not_allowed``).
    """
    result = TranscriptUsage(path)
    try:
        _read_usage(result, path, expect_last_text, size_cap, expect_digest, roots)
    except Exception:  # noqa: BLE001 - a reader must never take a hook down
        result.error = result.error or UNREADABLE
        result.complete = False
    return result


def _read_usage(result, path, expect_last_text, size_cap, expect_digest, roots) -> None:
    data = _read_bytes(result, path, size_cap, roots)
    if data is None:
        return
    tail_start = data.rfind(b"\n") + 1
    if not data[tail_start:].strip():
        tail_start = -1  # no unterminated last line
    scan = _scan_lines(result, data, tail_start)
    _finish(result, scan, expect_last_text, expect_digest)


def _read_bytes(result, path, size_cap, roots):
    """The whole transcript, or ``None`` with ``result.error`` set."""
    if roots is not None and not allowed(path, roots):
        result.error = NOT_ALLOWED
        return None
    fd, st, error = _open_regular(path, size_cap)
    if error:
        result.error = error
        return None
    try:
        result.mtime_ns = st.st_mtime_ns
        data = _read_all(fd, size_cap)
    except OSError:
        result.error = UNREADABLE
        return None
    finally:
        os.close(fd)
    if data is None:
        result.error = TOO_LARGE
        return None
    result.size = len(data)
    if len(data) == st.st_size:
        result.file_sig = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    return data


def _scan_lines(result, data, tail_start):
    """One pass over the lines worth parsing: every API request (by ``message.id``) with its model
    and usage, and what the last assistant message says. Long on purpose: this is the hot loop of
    pricing a transcript (a hook reads megabytes of it), so it keeps its state in locals.

    Returns ``(requests in order, last message id, its texts, its stop_reason, timestamps, version)``.
    """
    by_id: dict = {}
    order: list = []
    last_id = None
    last_contents: list = []  # the content values of the last message's lines
    last_stop = None
    timestamps: list = []
    version = None
    last_usage = last_version = None

    scan_once = _scan_once
    for offset, raw in _candidate_lines(data, tail_start, ANY_ASSISTANT):
        # _loads' common case inline (this loop runs for every assistant line of a transcript)
        text = raw.decode("utf-8", "replace")
        try:
            obj, stop = scan_once(text, 0)
            ok = stop == len(text)
        except Exception:  # noqa: BLE001 - the general path below decides
            ok = False
        if not ok:
            if not raw.strip():
                continue
            obj, ok = _loads(raw)
            if not ok:
                result.torn_lines += 1
                if offset == tail_start:
                    result.torn_tail = True
                continue
        if type(obj) is not dict:
            result.skipped_lines += 1
            continue
        if offset == 0:
            result.first_ts = parse_iso(obj.get("timestamp"))
        if obj.get("type") != "assistant":
            continue
        message = obj.get("message")
        if type(message) is not dict:
            result.skipped_lines += 1
            continue
        msg_id = message.get("id")
        if type(msg_id) is not str or not msg_id:
            for key in ("requestId", "requestRef", "uuid"):
                alt = obj.get(key)
                if isinstance(alt, str) and alt:
                    msg_id = key + ":" + alt
                    break
            else:
                msg_id = f"line@{offset}"  # a line's offset never changes: the file only grows
        usage = message.get("usage")
        v = obj.get("version")
        entry = by_id.get(msg_id)
        if entry is None:
            entry = {"id": msg_id, "model": _model_of(message), "usage": normalize_usage(usage, v)}
            by_id[msg_id] = entry
            order.append(entry)
            last_usage, last_version = usage, v
        else:
            # The lines of one response (one per content block) mostly repeat its usage unchanged:
            # the same usage (and release) as the line before adds nothing: not normalised again.
            if msg_id != last_id or usage != last_usage or v != last_version:
                _merge_usage(entry["usage"], normalize_usage(usage, v))
                last_usage, last_version = usage, v
            if entry["model"] is None:
                entry["model"] = _model_of(message)
        if msg_id != last_id:
            last_id = msg_id
            last_contents = []
            last_stop = None
        stop_reason = message.get("stop_reason")
        if type(stop_reason) is str:
            last_stop = stop_reason
        last_contents.append(message.get("content"))  # its texts taken out for the last message only
        timestamps.append(obj.get("timestamp"))  # parsed once, below: only the last one counts
        if isinstance(v, str) and 0 < len(v) <= 40:
            version = v

    return order, last_id, _texts(last_contents), last_stop, timestamps, version


def _model_of(message: dict):
    model = message.get("model")
    return model if isinstance(model, str) and model.strip() and len(model) <= 100 else None


def _texts(contents: list) -> list:
    """The text blocks of a message's lines' ``content`` values, in order."""
    texts = []
    for content in contents:
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
                    texts.append(block["text"])
        elif isinstance(content, str):
            texts.append(content)
    return texts


def _finish(result, scan, expect_last_text, expect_digest) -> None:
    """Fill ``result`` from the scan: the priced requests, times, version, and whether it is complete."""
    order, last_id, last_texts, last_stop, timestamps, version = scan
    result.requests = [e for e in order if e["model"] != SYNTHETIC_MODEL and not is_empty(e["usage"])]
    for e in result.requests:
        if e["model"] is None:
            e["model"] = "unknown"
    for value in reversed(timestamps):
        result.last_ts = parse_iso(value)
        if result.last_ts is not None:
            break
    result.version = version
    result.has_final_message = last_id is not None
    result.last_stop_reason = last_stop
    result.final = last_stop in FINAL_STOP_REASONS

    if expect_digest is None and expect_last_text is not None:
        expect_digest = text_digest(expect_last_text)
    if isinstance(expect_digest, str) and expect_digest:
        matched = False
        if last_texts:
            candidates = {last_texts[-1], "".join(last_texts), "\n".join(last_texts), "\n\n".join(last_texts)}
            for text in candidates:
                if text_digest(text) == expect_digest:
                    matched = True
                    break
        result.matched = matched
        result.complete = matched and not result.torn_tail
    else:
        result.matched = None
        result.complete = result.final and not result.torn_tail


# --------------------------------------------------------------------------- a read carried to the next hook

# A foreground spawn's transcript is read whole twice within moments: by SubagentStop, waiting for
# the final message, and by PostToolUse, pricing it (a megabyte is most of that hook's work). The
# stop therefore carries its read in its pending part, and the settle takes it instead of reading
# again when the file is provably the one read: the same device, inode, size and modification time
# (a transcript only grows, and every write moves its mtime). Bounded, so a part stays small; a
# longer transcript is simply read again.
CARRY_FORMAT = 1
CARRY_MAX_REQUESTS = 4000  # ~60 bytes a request: a carried read stays far under pending.PART_CAP
_CARRIED_FLAGS = ("torn_tail", "has_final_message", "final", "complete")
_CARRIED_COUNTS = ("torn_lines", "skipped_lines", "size", "mtime_ns")


def carry(usage: TranscriptUsage, digest) -> dict | None:
    """What PostToolUse needs of this read (never a text), or ``None`` when it is not worth carrying."""
    if usage.error is not None or usage.file_sig is None or len(usage.requests) > CARRY_MAX_REQUESTS:
        return None
    requests = []
    for request in usage.requests:
        counts = request["usage"]
        row = [request["model"]]
        row.extend(counts[key] for key in USAGE_KEYS)
        extra = {key: counts[key] for key in EXTRA_USAGE_KEYS if key in counts}
        if extra:
            row.append(extra)
        requests.append(row)
    carried = {key: getattr(usage, key) for key in _CARRIED_FLAGS + _CARRIED_COUNTS}
    carried.update(
        format=CARRY_FORMAT,
        sig=list(usage.file_sig),
        digest=digest,
        requests=requests,
        last_stop_reason=usage.last_stop_reason,
        matched=usage.matched,
        first_ts=usage.first_ts,
        last_ts=usage.last_ts,
        version=usage.version,
    )
    return carried


def _nonneg_int(value) -> bool:
    return type(value) is int and value >= 0


def _optional(value, kind) -> bool:
    return value is None or type(value) is kind


def from_carried(path, carried, digest, roots) -> TranscriptUsage | None:
    """The carried read of ``path`` (``carry``), when the file is still exactly the one read and the
    read was made for ``digest``; ``None`` means: read the file."""
    try:
        return _from_carried(path, carried, digest, roots)
    except Exception:  # noqa: BLE001 - a damaged carried read is just not used
        return None


def _from_carried(path, carried, digest, roots):
    if not isinstance(carried, dict) or carried.get("format") != CARRY_FORMAT or carried.get("digest") != digest:
        return None
    if roots is not None and not allowed(path, roots):
        return None
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode) or [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns] != carried["sig"]:
        return None
    result = TranscriptUsage(path)
    for key in _CARRIED_FLAGS:
        if type(carried[key]) is not bool:
            return None
        setattr(result, key, carried[key])
    for key in _CARRIED_COUNTS:
        if not _nonneg_int(carried[key]):
            return None
        setattr(result, key, carried[key])
    matched = carried["matched"]
    if not _optional(matched, bool) or not _optional(carried["last_stop_reason"], str):
        return None
    if not _optional(carried["version"], str):
        return None
    for key in ("first_ts", "last_ts"):
        if not (carried[key] is None or type(carried[key]) in (int, float)):
            return None
    requests = []
    width = 1 + len(USAGE_KEYS)
    for row in carried["requests"]:
        if type(row) is not list or len(row) not in (width, width + 1) or type(row[0]) is not str:
            return None
        counts = dict(zip(USAGE_KEYS, row[1:width], strict=True))
        if not all(_nonneg_int(n) for n in counts.values()):
            return None
        if len(row) > width:
            extra = row[width]
            if type(extra) is not dict or not set(extra) <= set(EXTRA_USAGE_KEYS):
                return None
            counts.update(extra)
        requests.append({"id": None, "model": row[0], "usage": counts})
    result.requests = requests
    result.matched = matched
    result.last_stop_reason = carried["last_stop_reason"]
    result.first_ts, result.last_ts, result.version = carried["first_ts"], carried["last_ts"], carried["version"]
    result.file_sig = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    return result


# --------------------------------------------------------------------------- tails, meta files


def scan_tail(path, needle: bytes, accept, windows=TAIL_WINDOWS):
    """The newest line of ``path`` containing ``needle`` for which ``accept(obj)`` returns a value
    other than ``None``; that value, or ``None``. Reads only the end of the file (growing windows)."""
    try:
        fd, st, error = _open_regular(path, 1 << 62)
    except Exception:  # noqa: BLE001
        return None
    if error:
        return None
    try:
        size = st.st_size
        for window in windows:
            start = max(0, size - window)
            try:
                data = os.pread(fd, size - start, start)
            except OSError:
                return None
            pos = len(data)
            while True:
                hit = data.rfind(needle, 0, pos)
                if hit < 0:
                    break
                line_start = data.rfind(b"\n", 0, hit) + 1
                line_end = data.find(b"\n", hit)
                if line_end < 0:
                    line_end = len(data)
                pos = line_start
                if line_start == 0 and start > 0:
                    break  # the line begins before this window: the next window has it whole
                obj, ok = _loads(data[line_start:line_end])
                if ok and isinstance(obj, dict):
                    try:
                        value = accept(obj)
                    except Exception:  # noqa: BLE001
                        value = None
                    if value is not None:
                        return value
                if pos == 0:
                    break
            if start == 0:
                return None
        return None
    finally:
        os.close(fd)


def _accept_cost_state(obj):
    if obj.get("type") != "cost-state":
        return None
    return obj


def read_cost_state(path) -> dict | None:
    """The session transcript's last ``cost-state`` line (Claude Code's own cost accounting)."""
    return scan_tail(path, b'"cost-state"', _accept_cost_state)


def _accept_version(obj):
    v = obj.get("version")
    return v if isinstance(v, str) and 0 < len(v) <= 40 else None


def read_version(path) -> str | None:
    """The Claude Code version written on the newest line that carries one."""
    return scan_tail(path, b'"version"', _accept_version, windows=TAIL_WINDOWS[:2])


def find_tool_use_model(path, tool_use_id, windows=TAIL_WINDOWS) -> str | None:
    """The model of the assistant message that issued the ``tool_use`` block ``tool_use_id``
    (the parent's model of a spawn), searched from the end of the session transcript."""
    if not isinstance(tool_use_id, str) or not tool_use_id or '"' in tool_use_id or "\\" in tool_use_id:
        return None
    needle = ('"' + tool_use_id + '"').encode("utf-8", "replace")

    def accept(obj):
        if obj.get("type") != "assistant":
            return None
        message = obj.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("model"), str):
            return None
        content = message.get("content")
        if not isinstance(content, list):
            return None
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_use" and block.get("id") == tool_use_id:
                model = message["model"]
                return model if model and model != SYNTHETIC_MODEL else None
        return None

    return scan_tail(path, needle, accept, windows)


def meta_path(transcript_path) -> str | None:
    """``…/agent-<id>.jsonl`` → ``…/agent-<id>.meta.json``."""
    if not isinstance(transcript_path, str) or not transcript_path.endswith(".jsonl"):
        return None
    return transcript_path[: -len(".jsonl")] + ".meta.json"


def read_meta(transcript_path) -> dict | None:
    """The ``agent-<id>.meta.json`` beside a subagent transcript (``toolUseId``, ``finished``, …)."""
    path = meta_path(transcript_path)
    if path is None:
        return None
    try:
        fd, _st, error = _open_regular(path, META_SIZE_CAP)
        if error:
            return None
        try:
            data = _read_all(fd, META_SIZE_CAP)
        finally:
            os.close(fd)
    except OSError:
        return None
    if not data:
        return None
    obj, ok = _loads(data)
    return obj if ok and isinstance(obj, dict) else None


def subagent_transcript_path(session_transcript_path, session_id, agent_id) -> str | None:
    """``<dir of session transcript>/<session_id>/subagents/agent-<agent_id>.jsonl``."""
    if not (isinstance(session_transcript_path, str) and session_transcript_path):
        return None
    if not (paths.safe_name(session_id) and paths.safe_name(agent_id)):
        return None
    return os.path.join(os.path.dirname(session_transcript_path), session_id, "subagents", f"agent-{agent_id}.jsonl")


def subagents_dir(session_transcript_path, session_id) -> str | None:
    if not (isinstance(session_transcript_path, str) and session_transcript_path and paths.safe_name(session_id)):
        return None
    return os.path.join(os.path.dirname(session_transcript_path), session_id, "subagents")
