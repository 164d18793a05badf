"""The pending store beside the ledger: each spawn's parts until it is settled, and tombstones after.

Identity. A spawn is known by its session AND its id: proxies and routers mint short tool ids
(``toolu_1``) that every session reuses, so nothing here is keyed by an id alone. The hooks write a
spawn's parts into ``<ledger dir>/pending/`` (dir 0700, files 0600), each name led by the session's
key (``session_key``: the session id, a hash of a very long one, or ``~`` for a payload without one):

- ``<session>.<tool_use_id>.pre.json``     the routing decision (PreToolUse)
- ``<session>.<tool_use_id>.post.json``    agent id, resolved model, status, background (PostToolUse)
- ``<session>.agent-<agent_id>.stop.json`` transcript path, digest of the final message (SubagentStop)

and ``settle`` joins parts of one session only.

Tombstones. A settled spawn leaves tombstones ``pending/tombstones/tu.<session>.<tool_use_id>``
and ``pending/tombstones/ag.<session>.<agent_id>``, holding the ledger offset its record starts at
(written before the record is appended), so that a replayed or late hook cannot add a second
record. Every part, tombstone and session marker is written whole or not at all
(``files.write_exclusive``: a private temporary file of its own, then rename). What a tombstone is
trusted for:

- ``is_settled`` (hooks, no lock: only to skip work): a tombstone holding an offset.
- ``still_settled`` (under the lock only, before a part is dropped or a record written — unlocked,
  it could remove a tombstone a settle has just written before its record): the ledger holds
  this spawn's whole record at the tombstone's offset. Anything else proves nothing — a tombstone
  that is empty, torn, unreadable or not a number (a disk filled while an older version wrote it),
  or whose offset holds no record of this spawn (a settle killed or failed between its tombstones
  and a whole record, a writer that appended without the lock, a ledger replaced): then the whole
  ledger is searched for the spawn's record. Found: the tombstone is rewritten with its offset and
  trusted. Not found: it is removed and the spawn settled again. So a tombstone alone never hides a
  spawn (nothing lost), and the ledger itself stops a second record (nothing counted twice). The
  search costs one read of the ledger, only on that rare path; no fsync is needed for the same reason.

Failures. A settle that cannot write a tombstone or its record (disk full, quota, any ``OSError``)
takes back the tombstones it wrote, leaves the ledger as it was (``ledger.append`` truncates a failed
append) and the parts where they are; a later settle records the spawn once space is back.

Upgrade. The previous layout keyed parts by id alone (``<tool_use_id>.pre.json``, ``agent-<id>.stop.json``)
and kept tombstones in ``pending/settled/tu-<id>`` / ``ag-<id>``. Such parts are still read (their
session is the one they hold inside). ``migrate_legacy`` (at the next settle, under the lock) turns
each old tombstone into one tombstone per session whose record the ledger holds with that id, drops
one whose spawn the ledger does not hold, and removes ``settled/``: a spawn recorded before the upgrade
is not recorded again, and another session reusing its id is not dropped.

Tombstones and session markers are swept after ``TOMBSTONE_TTL_S``.

Stdlib only and import-light: PreToolUse writes its part through here.
"""

from cco_hooks import coerce, fastjson, files, paths
from cco_hooks.fastos import os

PENDING_DIRNAME = "pending"
TOMBSTONES_DIRNAME = "tombstones"
LEGACY_SETTLED_DIRNAME = "settled"  # the previous version's tombstones (migrate_legacy)
SESSIONS_DIRNAME = "sessions"
LIVE_DIRNAME = "live"  # beside the ledger: the running subagents' cursors (live.py, for caps)
PRE, POST, STOP = ".pre.json", ".post.json", ".stop.json"
STOP_PREFIX = "agent-"
NO_SESSION = "~"  # the session key of a payload without a (usable) session id; never a safe_name
SESSION_KEY_CHARS = 100  # a longer session id is keyed by its hash, so every name stays < 255 bytes
PART_CAP = 1 << 20  # bytes; a bigger part is not ours
TOMBSTONE_TTL_S = 14 * 86400.0
LEFTOVER_TTL_S = 30 * 60.0  # a temporary file or an unreadable part older than this is removed
SWEEP_MARKER = ".swept"
SWEEP_EVERY_S = 86400.0
SCAN_CHUNK = 1 << 20

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

safe_name = paths.safe_name


def session_key(session_id) -> str:
    """The key of a session in file names: its id (``[A-Za-z0-9_-]``), ``h<hash>`` for an id too long
    to share a file name with a tool id, ``NO_SESSION`` for none."""
    if not safe_name(session_id):
        return NO_SESSION
    if len(session_id) > SESSION_KEY_CHARS:
        return "h" + files.stable_name(session_id)
    return session_id


def pending_dir(ledger_path: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(ledger_path)), PENDING_DIRNAME)


def pre_path(pdir: str, skey: str, tool_use_id: str) -> str:
    return os.path.join(pdir, f"{skey}.{tool_use_id}{PRE}")


def post_path(pdir: str, skey: str, tool_use_id: str) -> str:
    return os.path.join(pdir, f"{skey}.{tool_use_id}{POST}")


def stop_path(pdir: str, skey: str, agent_id: str) -> str:
    return os.path.join(pdir, f"{skey}.{STOP_PREFIX}{agent_id}{STOP}")


def session_marker_path(pdir: str, session_id: str) -> str:
    return os.path.join(pdir, SESSIONS_DIRNAME, session_id + ".json")


SESSION_END = ".end.json"


def session_end_path(pdir: str, session_id: str) -> str:
    """A session record SessionEnd could not append (the lock was busy), waiting for a settle."""
    return os.path.join(pdir, SESSIONS_DIRNAME, session_id + SESSION_END)


def session_end_parts(pdir: str) -> list:
    """``(session id, path)`` of the session records waiting to be appended."""
    directory = os.path.join(pdir, SESSIONS_DIRNAME)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    found = []
    for name in names:
        if name.endswith(SESSION_END) and not name.startswith("."):
            found.append((name[: -len(SESSION_END)], os.path.join(directory, name)))
    return found


def write_part(path: str, data: dict) -> None:
    """Write a part or marker whole, or not at all (raises ``OSError``, ``path`` untouched)."""
    files.write_exclusive(path, fastjson.dumps(data).encode("ascii"))


def read_part(path: str):
    """The JSON object in a part (or marker) file, or ``None`` (a link, a pipe or another user's
    file too: its content is never read, so nothing from outside our files reaches the ledger)."""
    try:
        return files.read_own_json_object(path, PART_CAP)
    except files.UnsafeFile:
        return None


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
    """The SubagentStop parts waiting in ``pdir`` (both layouts), sorted."""
    try:
        names = os.listdir(pdir)
    except OSError:
        return []
    return sorted(n for n in names if n.endswith(STOP) and (_classify(n) or (None,) * 4)[2] == "stop")


def count_pending(pdir: str) -> int:
    """How many spawns have parts in ``pdir`` not settled yet: one per (session, tool_use_id) with a
    PreToolUse or PostToolUse part, plus one per (session, agent id) SubagentStop part that no
    PostToolUse part of its session names (an agent seen only by SubagentStop). Read-only: nothing
    is removed or settled here."""
    try:
        names = os.listdir(pdir)
    except OSError:
        return 0
    spawns = set()
    stops = set()
    named_agents = set()
    for name in names:
        found = _classify(name)
        if found is None or not safe_name(found[1]):
            continue
        skey, key, which, kind = found
        part = None
        if skey is None or which == "post":
            part = coerce.mapping(read_part(os.path.join(pdir, name)))
        if skey is None:  # the previous layout: the session is the one the part holds
            skey = session_key(part.get("session_id"))
        if skey != NO_SESSION and not safe_name(skey):
            continue
        if is_settled(pdir, kind, skey, key):
            continue  # a late or replayed part of a spawn already in the ledger
        if which == "stop":
            stops.add((skey, key))
            continue
        spawns.add((skey, key))
        if which == "post" and safe_name(part.get("agent_id")):
            named_agents.add((skey, part["agent_id"]))
    return len(spawns) + len(stops - named_agents)


# --------------------------------------------------------------------------- tombstones


def _tombstone(pdir: str, kind: str, skey: str, key):
    if not safe_name(key) or kind not in ("tu", "ag"):
        return None
    return os.path.join(pdir, TOMBSTONES_DIRNAME, f"{kind}.{skey}.{key}")


def settled_offset(pdir: str, kind: str, skey: str, key):
    """The ledger offset a tombstone holds; ``None`` when there is none, or it is empty, torn or
    unreadable (never trusted: see the module docstring)."""
    path = _tombstone(pdir, kind, skey, key)
    if path is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | _O_CLOEXEC | files.O_NONBLOCK | files.O_NOFOLLOW)
    except OSError:
        return None
    try:
        text = os.read(fd, 32)
    except OSError:
        return None
    finally:
        os.close(fd)
    return int(text) if 0 < len(text) <= 20 and text.isdigit() else None


def is_settled(pdir: str, kind: str, skey: str, key) -> bool:
    """A tombstone with an offset exists: ``kind`` is ``"tu"`` (a tool_use_id) or ``"ag"`` (an agent
    id). Without the lock, only to skip work; ``still_settled`` decides."""
    return settled_offset(pdir, kind, skey, key) is not None


def mark_settled(pdir: str, kind: str, skey: str, key, offset: int) -> None:
    """Write the tombstone, whole or not at all; ``offset``: the ledger's size just before the spawn's
    record is appended (the tombstone is written first: see ``still_settled``). Raises ``OSError``."""
    path = _tombstone(pdir, kind, skey, key)
    if path is None:
        return
    files.write_exclusive(path, str(int(offset)).encode("ascii"))


def unmark_settled(pdir: str, kind: str, skey: str, key) -> None:
    remove(_tombstone(pdir, kind, skey, key))


def ledger_size(ledger_path: str) -> int:
    try:
        return os.stat(ledger_path).st_size
    except OSError:
        return 0


def _is_record_of(record, kind: str, skey: str, key: str) -> bool:
    """``record`` is this spawn's (a record without a session, the blank one of a spawn whose parts
    could not be read, matches by its id)."""
    if not isinstance(record, dict) or record.get("kind", "spawn") != "spawn":
        return False
    if record.get("tool_use_id" if kind == "tu" else "agent_id") != key:
        return False
    session = record.get("session_id")
    return session is None or session_key(session) == skey


def recorded_at(ledger_path: str, offset: int, kind: str, skey: str, key: str) -> bool:
    """The ledger holds, at ``offset``, the whole record of this spawn."""
    try:
        fd = os.open(ledger_path, os.O_RDONLY | _O_CLOEXEC | files.O_NONBLOCK | files.O_NOFOLLOW)
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
    return _is_record_of(record, kind, skey, key)


def scan_ledger(ledger_path: str, wanted, start: int = 0):
    """``{(kind, key): [(offset, session key), …]}`` of the whole spawn records from ``start`` on
    whose ``tool_use_id`` (kind ``tu``) or ``agent_id`` (``ag``) is in ``wanted`` (a set of
    ``(kind, key)``). One pass; only lines that contain a wanted id are parsed."""
    found: dict = {}
    if not wanted:
        return found
    needles = [key.encode("ascii") for _, key in wanted]
    try:
        fd = os.open(ledger_path, os.O_RDONLY | _O_CLOEXEC | files.O_NONBLOCK | files.O_NOFOLLOW)
    except OSError:
        return found
    try:
        position, rest = start, b""
        while True:
            try:
                chunk = os.pread(fd, SCAN_CHUNK, position + len(rest))
            except OSError:
                break
            if not chunk:
                break
            rest += chunk
            lines = rest.split(b"\n")
            rest = lines.pop()  # an unterminated last line is not a whole record
            for line in lines:
                if any(n in line for n in needles):
                    _note(found, wanted, line, position)
                position += len(line) + 1
    finally:
        os.close(fd)
    return found


def _note(found: dict, wanted, line: bytes, offset: int) -> None:
    try:
        record = fastjson.loads(line)
    except ValueError:
        return
    if not isinstance(record, dict) or record.get("kind", "spawn") != "spawn":
        return
    for kind, field in (("tu", "tool_use_id"), ("ag", "agent_id")):
        key = record.get(field)
        if (kind, key) in wanted:
            found.setdefault((kind, key), []).append((offset, session_key(record.get("session_id"))))


def still_settled(pdir: str, kind: str, skey: str, key, ledger_path: str) -> bool:
    """The spawn's record is in the ledger, as its tombstone says (under the lock; see the module
    docstring for what is trusted). A tombstone the ledger does not bear out is removed."""
    path = _tombstone(pdir, kind, skey, key)
    if path is None or not os.path.lexists(path):
        return False
    offset = settled_offset(pdir, kind, skey, key)
    if offset is not None and recorded_at(ledger_path, offset, kind, skey, key):
        return True
    hits = scan_ledger(ledger_path, {(kind, key)}).get((kind, key), ())
    ours = [at for at, session in hits if session in (skey, NO_SESSION)]
    if ours:
        try:
            mark_settled(pdir, kind, skey, key, ours[0])
        except OSError:
            pass  # still trusted now (the ledger says so); the next check searches again
        return True
    remove(path)
    return False


def migrate_legacy(pdir: str, ledger_path: str) -> None:
    """Turn the previous version's tombstones (``settled/tu-<id>``, ``ag-<id>``) into this one's, by
    the sessions the ledger records them in (module docstring, "Upgrade"). Under the ledger lock;
    an error leaves the rest for the next settle (each step can be repeated)."""
    legacy = os.path.join(pdir, LEGACY_SETTLED_DIRNAME)
    try:
        names = os.listdir(legacy)
    except OSError:
        return
    wanted = {}
    for name in names:
        kind, _, key = name.partition("-")
        if kind in ("tu", "ag") and safe_name(key):
            wanted[(kind, key)] = name
        elif not name.startswith("."):
            remove(os.path.join(legacy, name))
    found = scan_ledger(ledger_path, set(wanted)) if wanted else {}
    for (kind, key), name in wanted.items():
        for offset, skey in found.get((kind, key), ()):
            mark_settled(pdir, kind, skey, key, offset)
        remove(os.path.join(legacy, name))
    for name in os.listdir(legacy):
        remove(os.path.join(legacy, name))  # temporary files
    try:
        os.rmdir(legacy)
    except OSError:
        pass


def sweep(pdir: str, now: float, force: bool) -> None:
    """Drop tombstones and session markers older than ``TOMBSTONE_TTL_S``, and temporary files left
    by a killed writer — at report time, and at most once a day from the hooks."""
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
        fd = files.open_own(marker, os.O_WRONLY | os.O_CREAT)
        try:
            files.tighten_mode(fd)
            os.utime(fd)  # through the descriptor: a path could be a link put there meanwhile
        finally:
            os.close(fd)
    except OSError:
        pass
    for sub in (TOMBSTONES_DIRNAME, SESSIONS_DIRNAME):
        directory = os.path.join(pdir, sub)
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            ttl = LEFTOVER_TTL_S if name.startswith(".") and name.endswith(".tmp") else TOMBSTONE_TTL_S
            remove_if_older(os.path.join(directory, name), now, ttl)


# --------------------------------------------------------------------------- loading the parts


def _classify(name: str):
    """``(session key or None, key, which, tombstone kind)`` of a part file name, or ``None`` for
    another file. The session key is ``None`` in the previous layout's names (no session in them)."""
    if name.endswith(PRE):
        suffix, which, kind = PRE, "pre", "tu"
    elif name.endswith(POST):
        suffix, which, kind = POST, "post", "tu"
    elif name.endswith(STOP):
        suffix, which, kind = STOP, "stop", "ag"
    else:
        return None
    stem = name[: -len(suffix)]
    skey, dot, key = stem.rpartition(".")
    if not dot:
        skey = None
    elif skey != NO_SESSION and not safe_name(skey):
        return ("", "", "", "")  # not a name we write: removed as garbage
    if which == "stop":
        if not key.startswith(STOP_PREFIX):
            return None
        key = key[len(STOP_PREFIX) :]
    return skey, key, which, kind


def _superseded(pdir: str, which: str, kind: str, skey: str, key: str, part: dict, ledger_path: str):
    """``False``, or how the part's spawn is in the ledger already (a late or replayed hook's part):
    ``True``, or for a PostToolUse whose agent was settled from its SubagentStop alone, the offset
    of that record (its pre part is to be consumed with it)."""
    if still_settled(pdir, kind, skey, key, ledger_path):
        return True
    agent_id = part.get("agent_id")
    if which == "post" and safe_name(agent_id) and still_settled(pdir, "ag", skey, agent_id, ledger_path):
        return settled_offset(pdir, "ag", skey, agent_id) or 0
    return False


def load_parts(pdir: str, now: float, ledger_path: str):
    """``(pres, posts, stops)``: the live parts by ``(session key, id)`` (a tool_use_id, or the agent
    id for stops), each with a usable ``ts``, its ``_file`` and ``_session``. Parts of settled spawns,
    damaged parts and stray temporary files are removed on the way (damaged ones once they are old).
    A late PostToolUse of a spawn settled from its SubagentStop alone consumes the spawn's pre part:
    its tool_use_id gets a tombstone too, so that pre part never becomes a second record."""
    buckets = {"pre": {}, "post": {}, "stop": {}}
    consumed = []
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
        skey, key, which, kind = found
        if not safe_name(key):
            remove(path)
            continue
        part = read_part(path)
        if part is None:
            remove_if_older(path, now, LEFTOVER_TTL_S)
            continue
        if skey is None:  # the previous layout: the session is the one the part holds
            skey = session_key(part.get("session_id"))
        gone = _superseded(pdir, which, kind, skey, key, part, ledger_path)
        if gone is not False:
            remove(path)
            if gone is not True:
                consumed.append((skey, key, gone))
            continue
        ts = coerce.number(part.get("ts"))
        if ts is None or not 0 < ts <= now + 86400:
            try:
                ts = os.stat(path).st_mtime
            except OSError:
                ts = now
        part["ts"] = ts
        part["_file"] = path
        part["_session"] = skey
        if which == "post":
            part["agent_id"] = part.get("agent_id") if safe_name(part.get("agent_id")) else None
        elif which == "stop":
            part["agent_id"] = key
        if (skey, key) in buckets[which]:
            remove(buckets[which][(skey, key)]["_file"])  # both layouts hold it: keep one
        buckets[which][(skey, key)] = part
    for skey, tool_use_id, offset in consumed:
        try:
            mark_settled(pdir, "tu", skey, tool_use_id, offset)
        except OSError:
            continue  # the pre part stays; the next settle consumes it
        pre = buckets["pre"].pop((skey, tool_use_id), None)
        if pre is not None:
            remove(pre["_file"])
    return buckets["pre"], buckets["post"], buckets["stop"]
