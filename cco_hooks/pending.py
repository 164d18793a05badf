"""The pending store beside the ledger: each spawn's parts until it is settled, and tombstones after.

The hooks write a spawn's parts into ``<ledger dir>/pending/`` (dir 0700, files 0600, temp + rename):

- ``<tool_use_id>.pre.json``   the routing decision (PreToolUse)
- ``<tool_use_id>.post.json``  agent id, resolved model, status, background flag (PostToolUse)
- ``agent-<agent_id>.stop.json`` transcript path, digest of the final message, time (SubagentStop)

A settled spawn leaves tombstones (``pending/settled/tu-<tool_use_id>``, ``…/ag-<agent_id>``) holding
the ledger offset its record starts at, so that a replayed or late hook cannot add a second record.
A settle killed between the tombstones and a whole record leaves its parts behind: the next settle
finds no record at the tombstone's offset, drops the tombstone and settles the spawn again
(``still_settled``): never lost, never twice. Tombstones and session markers are swept after
``TOMBSTONE_TTL_S``.

Stdlib only and import-light: PreToolUse writes its part through here.
"""

import os

from cco_hooks import coerce, fastjson, files, paths

PENDING_DIRNAME = "pending"
SETTLED_DIRNAME = "settled"
SESSIONS_DIRNAME = "sessions"
PRE, POST, STOP = ".pre.json", ".post.json", ".stop.json"
STOP_PREFIX = "agent-"
PART_CAP = 1 << 20  # bytes; a bigger part is not ours
TOMBSTONE_TTL_S = 14 * 86400.0
LEFTOVER_TTL_S = 30 * 60.0  # a temporary file or an unreadable part older than this is removed
SWEEP_MARKER = ".swept"
SWEEP_EVERY_S = 86400.0

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

safe_name = paths.safe_name


def pending_dir(ledger_path: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(ledger_path)), PENDING_DIRNAME)


def pre_path(pdir: str, tool_use_id: str) -> str:
    return os.path.join(pdir, tool_use_id + PRE)


def post_path(pdir: str, tool_use_id: str) -> str:
    return os.path.join(pdir, tool_use_id + POST)


def stop_path(pdir: str, agent_id: str) -> str:
    return os.path.join(pdir, STOP_PREFIX + agent_id + STOP)


def session_marker_path(pdir: str, session_id: str) -> str:
    return os.path.join(pdir, SESSIONS_DIRNAME, session_id + ".json")


def write_part(path: str, data: dict) -> None:
    files.write_private(path, fastjson.dumps(data).encode("ascii"))


def read_part(path: str):
    """The JSON object in a part (or marker) file, or ``None``."""
    return files.read_json_object(path, PART_CAP)


def remove(path) -> None:
    if not path:
        return
    try:
        os.unlink(path)
    except OSError:
        pass


def remove_if_older(path: str, now: float, age: float) -> None:
    try:
        if now - os.stat(path).st_mtime >= age:
            os.unlink(path)
    except OSError:
        pass


def stop_part_names(pdir: str) -> list:
    """The SubagentStop parts waiting in ``pdir``, sorted."""
    try:
        names = os.listdir(pdir)
    except OSError:
        return []
    return sorted(n for n in names if n.startswith(STOP_PREFIX) and n.endswith(STOP))


def count_pending(pdir: str) -> int:
    """How many spawns have parts in ``pdir`` not settled yet: one per tool_use_id with a PreToolUse
    or PostToolUse part, plus one per SubagentStop part that no PostToolUse part names (an agent
    seen only by SubagentStop). Read-only: nothing is removed or settled here."""
    try:
        names = os.listdir(pdir)
    except OSError:
        return 0
    spawns = set()
    stops = set()
    named_agents = set()
    for name in names:
        found = _classify(name)
        if found is None or not safe_name(found[0]):
            continue
        key, which, kind = found
        if is_settled(pdir, kind, key):
            continue  # a late or replayed part of a spawn already in the ledger
        if which == "stop":
            stops.add(key)
            continue
        spawns.add(key)
        if which == "post":
            agent_id = coerce.mapping(read_part(os.path.join(pdir, name))).get("agent_id")
            if safe_name(agent_id):
                named_agents.add(agent_id)
    return len(spawns) + len(stops - named_agents)


# --------------------------------------------------------------------------- tombstones


def _tombstone(pdir: str, kind: str, key):
    if not safe_name(key):
        return None
    return os.path.join(pdir, SETTLED_DIRNAME, f"{kind}-{key}")


def is_settled(pdir: str, kind: str, key) -> bool:
    """A tombstone exists: ``kind`` is ``"tu"`` (a tool_use_id) or ``"ag"`` (an agent id)."""
    path = _tombstone(pdir, kind, key)
    return path is not None and os.path.exists(path)


def mark_settled(pdir: str, kind: str, key, offset=None) -> None:
    """Write the tombstone; ``offset``: the ledger's size just before the spawn's record is appended
    (the tombstone is written first, so a settle killed in between can be told apart: see
    ``still_settled``)."""
    path = _tombstone(pdir, kind, key)
    if path is None:
        return
    files.make_private_dirs(os.path.dirname(path))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_CLOEXEC, 0o600)
    try:
        if offset is not None:
            os.write(fd, str(offset).encode("ascii"))
    finally:
        os.close(fd)


def ledger_size(ledger_path: str) -> int:
    try:
        return os.stat(ledger_path).st_size
    except OSError:
        return 0


def recorded_at(ledger_path: str, offset: int, kind: str, key: str) -> bool:
    """The ledger holds, at ``offset``, the whole record of this spawn."""
    try:
        fd = os.open(ledger_path, os.O_RDONLY | _O_CLOEXEC)
    except OSError:
        return False
    try:
        data = os.pread(fd, 1 << 20, offset)
    except OSError:
        return False
    finally:
        os.close(fd)
    data = data[1:] if data.startswith(b"\n") else data  # ledger.append's newline after a torn line
    end = data.find(b"\n")
    if end < 0:
        return False  # torn: the writer died mid-line
    try:
        record = fastjson.loads(data[:end])
    except ValueError:
        return False
    return isinstance(record, dict) and record.get("tool_use_id" if kind == "tu" else "agent_id") == key


def still_settled(pdir: str, kind: str, key, ledger_path: str) -> bool:
    """A tombstone beside a live part: mostly a late or replayed hook's part, to be dropped. But a
    settle killed (SIGKILL, power loss) after writing the tombstone and before its record was
    whole in the ledger leaves the parts behind too: then the tombstone goes and the spawn is
    settled again — never lost, never counted twice."""
    path = _tombstone(pdir, kind, key)
    if path is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY | _O_CLOEXEC)
    except OSError:
        return False
    try:
        text = os.read(fd, 32).strip()
    except OSError:
        return True
    finally:
        os.close(fd)
    if not text.isdigit():
        return True  # no offset (written before tombstones carried one): trust it
    if recorded_at(ledger_path, int(text), kind, key):
        return True
    remove(path)
    return False


def sweep(pdir: str, now: float, force: bool) -> None:
    """Drop tombstones and session markers older than ``TOMBSTONE_TTL_S`` — at report time, and
    at most once a day from the hooks."""
    marker = os.path.join(pdir, SWEEP_MARKER)
    if not force:
        try:
            if now - os.stat(marker).st_mtime < SWEEP_EVERY_S:
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | _O_CLOEXEC, 0o600)
        os.close(fd)
        os.utime(marker)
    except OSError:
        pass
    for sub in (SETTLED_DIRNAME, SESSIONS_DIRNAME):
        directory = os.path.join(pdir, sub)
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            remove_if_older(os.path.join(directory, name), now, TOMBSTONE_TTL_S)


# --------------------------------------------------------------------------- loading the parts


def _classify(name: str):
    """``(key, which, tombstone kind)`` of a part file name, or ``None`` for another file."""
    if name.endswith(PRE):
        return name[: -len(PRE)], "pre", "tu"
    if name.endswith(POST):
        return name[: -len(POST)], "post", "tu"
    if name.startswith(STOP_PREFIX) and name.endswith(STOP):
        return name[len(STOP_PREFIX) : -len(STOP)], "stop", "ag"
    return None


def _superseded(pdir: str, which: str, kind: str, key: str, part: dict, ledger_path: str) -> bool:
    """The part's spawn is in the ledger already (a late or replayed hook's part)."""
    if still_settled(pdir, kind, key, ledger_path):
        return True
    agent_id = part.get("agent_id")
    return which == "post" and safe_name(agent_id) and still_settled(pdir, "ag", agent_id, ledger_path)


def load_parts(pdir: str, now: float, ledger_path: str):
    """``(pres, posts, stops)``: the live parts by key (tool_use_id, or agent id for stops), each
    with a usable ``ts`` and its ``_file``. Parts of settled spawns, damaged parts and stray
    temporary files are removed on the way (damaged ones once they are old)."""
    buckets = {"pre": {}, "post": {}, "stop": {}}
    try:
        names = os.listdir(pdir)
    except OSError:
        return buckets["pre"], buckets["post"], buckets["stop"]
    for name in names:
        path = os.path.join(pdir, name)
        if name.startswith("."):
            if name.endswith(".tmp"):
                remove_if_older(path, now, LEFTOVER_TTL_S)
            continue
        found = _classify(name)
        if found is None:
            continue
        key, which, kind = found
        if not safe_name(key):
            remove(path)
            continue
        part = read_part(path)
        if part is None:
            remove_if_older(path, now, LEFTOVER_TTL_S)
            continue
        if _superseded(pdir, which, kind, key, part, ledger_path):
            remove(path)
            continue
        ts = coerce.number(part.get("ts"))
        if ts is None or not 0 < ts <= now + 86400:
            try:
                ts = os.stat(path).st_mtime
            except OSError:
                ts = now
        part["ts"] = ts
        part["_file"] = path
        if which == "post":
            part["agent_id"] = part.get("agent_id") if safe_name(part.get("agent_id")) else None
        elif which == "stop":
            part["agent_id"] = key
        buckets[which][key] = part
    return buckets["pre"], buckets["post"], buckets["stop"]
