"""``cco-hooks statusline``: a command for Claude Code's ``statusLine`` setting.

Claude Code runs the command on every status refresh (300 ms after the conversation changes, and
every ``refreshInterval`` seconds when set) with a JSON object on stdin: ``session_id``,
``transcript_path``, ``cwd``, ``workspace.project_dir``, ``model``, ``cost.total_cost_usd`` (the
session's own total, main loop and subagents' finished requests) and more; it shows what the
command prints. We print one line:

    cco-hooks │ session $1.23 · subagents $0.52 (3 done, 1 running $0.08) · saved $0.31 · left: session $3.77 of $5.00

- **subagents**: this session's spawns in the ledger (settled, priced), plus each subagent whose
  transcript (``<session dir>/<session_id>/subagents/agent-<id>.jsonl``) is not in the ledger yet:
  running, or stopped and not settled, priced as its transcript stands (``running_spend``);
- **saved**: what routing saved on the settled spawns (against what Claude Code would have run);
- **left**: each budget cap the session falls under, minus the spend including the running ones.

Run as ``install --statusline`` registers it (``<python> -S <shim> statusline [--wrap CMD]``),
through the hook shim: standard library only, no click. A status line the user already had is
passed the same stdin and runs first (``--wrap``); its output lines come first, ours last. It must
be quick, so everything read is cached in ``<state dir>/statusline/<session>.json``: the session's
ledger sums up to the offset read (only new lines are read), and each running transcript's cost by
its size and mtime. Never fails loudly: on any error of ours, the wrapped output (if any) still shows.
"""

import sys
import time

from cco_hooks import coerce, fastjson, files, hookio, paths
from cco_hooks.fastos import os

WRAP_FLAG = "--wrap"
WRAPPED_TIMEOUT_S = 2.0  # the user's own status line; Claude Code drops a refresh that takes longer
CACHE_CAP = 4 << 20
CACHE_VERSION = 1
SEPARATOR = " · "


def cache_path(session_id, env=None):
    return os.path.join(paths.state_dir(env), "statusline", f"{session_id}.json")


def _read_cache(path):
    try:
        data = files.read_own_json_object(path, CACHE_CAP)
    except (files.UnsafeFile, OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("v") == CACHE_VERSION else {}


def _write_cache(path, cache):
    try:
        files.make_private_dirs(os.path.dirname(path))
        files.check_own(path)
        files.write_private(path, fastjson.dumps(cache).encode("ascii"))
    except (files.UnsafeFile, OSError, ValueError):
        pass  # only speed is lost: the next refresh reads again


# --------------------------------------------------------------------------- the ledger's share


def settled_spend(ledger_path, session_id, cached):
    """This session's spawns in the ledger: ``{"ino", "end", "usd", "saved", "spawns", "agents"}``,
    caught up from ``cached`` (only the lines after its ``end`` are read; from the start when the
    ledger was replaced or truncated)."""
    try:
        st = os.lstat(ledger_path)
    except (OSError, ValueError):
        return {"ino": None, "end": 0, "usd": 0.0, "saved": 0.0, "spawns": 0, "agents": []}
    sums = cached if isinstance(cached, dict) and cached.get("ino") == st.st_ino else {}
    end = sums.get("end") if isinstance(sums.get("end"), int) else 0
    if end > st.st_size or not isinstance(sums.get("agents"), list):
        sums, end = {}, 0
    if sums and end == st.st_size:
        return sums
    from cco_hooks import ledger

    total = coerce.number(sums.get("usd")) or 0.0
    saved = coerce.number(sums.get("saved")) or 0.0
    spawns = coerce.count(sums.get("spawns")) or 0
    agents = list(sums.get("agents") or ())
    stats = {}
    for record in ledger.iter_records(ledger_path, stats, offset=end):
        if record.get("session_id") != session_id or record.get("kind", "spawn") != "spawn":
            continue
        if isinstance(record.get("agent_id"), str):
            agents.append(record["agent_id"])
        if record.get("status") == "denied":
            continue
        spawns += 1
        total += coerce.number(record.get("cost_usd")) or 0.0
        saved += coerce.number(record.get("savings_usd")) or 0.0
    return {
        "ino": st.st_ino,
        "end": stats.get("end", end),
        "usd": total,
        "saved": saved,
        "spawns": spawns,
        "agents": agents,
    }


# --------------------------------------------------------------------------- running subagents


def running_spend(agent_transcript, roots, cached, prices):
    """The cost so far of one subagent from its transcript, ``{"size", "mtime_ns", "usd", "live"}``.

    The one place the status line reads a running subagent's transcript: ``cached`` (this same
    dict from the last refresh) is returned as is while the file's size and mtime are unchanged;
    when the file grew, the live reader (``live.read_running``, the caps' reader) counts only the
    bytes added since, from the state kept in ``cached["live"]``. ``prices``: a callable giving the
    price table, called only when the file must be read."""
    try:
        st = os.stat(agent_transcript)
    except (OSError, ValueError):
        return None
    if isinstance(cached, dict) and cached.get("size") == st.st_size and cached.get("mtime_ns") == st.st_mtime_ns:
        return cached
    from cco_hooks import live

    previous = cached.get("live") if isinstance(cached, dict) else None
    state = live.read_running(agent_transcript, previous, prices(), roots)
    spent = state.pop("usd_now", 0.0) or 0.0
    for figure in ("requests_now", "last_usd_now"):
        state.pop(figure, None)
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "usd": spent, "live": state}


def live_spend(session_transcript, session_id, settled_agents, cached, prices):
    """``(usd, count, per-agent cache)`` of the session's subagents not in the ledger yet."""
    if not (isinstance(session_transcript, str) and session_transcript and paths.safe_name(session_id)):
        return 0.0, 0, {}
    directory = os.path.join(os.path.dirname(session_transcript), session_id, "subagents")
    try:
        names = os.listdir(directory)
    except (OSError, ValueError):
        return 0.0, 0, {}
    settled = set(settled_agents)
    cached = cached if isinstance(cached, dict) else {}
    roots = None
    total, count, fresh = 0.0, 0, {}
    for name in names:
        if not (name.startswith("agent-") and name.endswith(".jsonl")):
            continue
        agent_id = name[len("agent-") : -len(".jsonl")]
        if agent_id in settled or not paths.safe_name(agent_id):
            continue
        if roots is None:
            roots = [paths.claude_config_dir(), os.path.dirname(session_transcript)]
        entry = running_spend(os.path.join(directory, name), roots, cached.get(agent_id), prices)
        if entry is None:
            continue
        fresh[agent_id] = entry
        total += entry["usd"]
        count += 1
    return total, count, fresh


# --------------------------------------------------------------------------- the line


def usd(value):
    """Dollars as ``budget.format_usd`` writes them (``$1,234.50``, ``$0.2500``, ``$0.000001``),
    without loading the budget check and the accounting it imports on every refresh."""
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 0.01 or value == 0:
        return f"${value:.4f}"
    return f"${value:.6f}".rstrip("0").rstrip(".") if value >= 0.000001 else f"${value:.2g}"


def budget_caps(snap, ledger_path, session_usd, live_usd, now=None):
    """``[(what, cap, used)]``: the session cap against this session's spend (settled and running),
    the daily cap against the day's running totals plus the running subagents."""
    conf = coerce.mapping(snap.get("budget"))
    caps = []
    session_cap = coerce.number(conf.get("session_usd"))
    if session_cap is not None:
        caps.append(("session", session_cap, session_usd + live_usd))
    daily = coerce.number(conf.get("daily_usd"))
    if daily is not None:
        from cco_hooks import totals

        zone = None
        if isinstance(conf.get("timezone"), str) and conf["timezone"].strip().upper() not in ("", "UTC"):
            from cco_hooks import budget

            zone = budget.day_zone(conf)
        now = time.time() if now is None else now
        spent = totals.read_totals(ledger_path, zone)
        today = totals.utc_day(now) if zone is None else zone.day(now)
        used = coerce.number(coerce.mapping(spent["days"].get(today)).get("usd")) or 0.0
        caps.append(("today", daily, used + live_usd))
    return caps


def render(session_usd, settled, live_usd, live_count, caps):
    """The status line's text (one line)."""
    parts = []
    if session_usd is not None:
        parts.append(f"session {usd(session_usd)}")
    done = settled.get("spawns") or 0
    detail = [f"{done} done"]
    if live_count:
        detail.append(f"{live_count} running {usd(live_usd)}")
    parts.append(f"subagents {usd((settled.get('usd') or 0.0) + live_usd)} ({', '.join(detail)})")
    parts.append(f"saved {usd(settled.get('saved') or 0.0)}")
    if caps:
        left = ", ".join(f"{what} {usd(max(cap - used, 0.0))} of {usd(cap)}" for what, cap, used in caps)
        parts.append(f"left: {left}")
    return "cco-hooks │ " + SEPARATOR.join(parts)


def status_line(status, env=None, now=None):
    """The line for one status JSON (``status``, the dict Claude Code pipes), or ``None`` when it
    names no session."""
    env = os.environ if env is None else env
    session_id = status.get("session_id")
    if not paths.safe_name(session_id):
        return None
    workspace = coerce.mapping(status.get("workspace"))
    project_hint = workspace.get("project_dir") if isinstance(workspace.get("project_dir"), str) else None
    project = paths.project_dir(project_hint or coerce.text(status.get("cwd"), 4096), env)
    from cco_hooks import snapshot

    snap = snapshot.load(project, env) if project else {}
    ledger_path = paths.ledger_path(snap.get("ledger_path"), env)
    path = cache_path(session_id, env)
    cache = _read_cache(path)
    settled = settled_spend(ledger_path, session_id, cache.get("ledger"))
    table = []

    def prices():
        if not table:
            from cco_hooks import pricing

            table.append(pricing.load_prices(override_path=snap.get("pricing_file")))
        return table[0]

    transcript_path = status.get("transcript_path") if isinstance(status.get("transcript_path"), str) else None
    live_usd, live_count, running = live_spend(
        transcript_path, session_id, settled["agents"], cache.get("running"), prices
    )
    caps = []
    if snap.get("budget") and not snap.get("broken"):
        caps = budget_caps(snap, ledger_path, settled["usd"], live_usd, now)
    cost = coerce.mapping(status.get("cost")).get("total_cost_usd")
    session_usd = coerce.number(cost)
    fresh = {"v": CACHE_VERSION, "ledger": settled, "running": running}
    if fresh != cache:
        _write_cache(path, fresh)
    return render(session_usd, settled, live_usd, live_count, caps)


# --------------------------------------------------------------------------- the command


def run_wrapped(command, stdin_bytes, timeout=WRAPPED_TIMEOUT_S):
    """The user's own status line, run as Claude Code runs it (``sh -c``, the same stdin): its
    stdout, or ``""`` when it fails or takes longer than ``timeout``."""
    import signal
    import subprocess

    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its whole process group is ended on a timeout
        )
    except OSError:
        return ""
    try:
        out, _ = proc.communicate(stdin_bytes, timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.communicate()
        return ""
    return out.decode("utf-8", "replace") if proc.returncode == 0 else ""


def main(argv):
    """``statusline [--wrap COMMAND]``: print the wrapped status line's output, then ours."""
    argv = argv[1:] if argv and argv[0] == "statusline" else argv
    wrapped = argv[1] if len(argv) >= 2 and argv[0] == WRAP_FLAG else None
    hookio.start_deadline("statusline")
    try:
        raw = hookio._read_bounded(sys.stdin.buffer)
    except (hookio.PayloadTimeout, OSError, ValueError):
        raw = b""
    lines = []
    if wrapped:
        # The user's own line is theirs: passed through as it printed it (Claude Code shows it so).
        lines.extend(line for line in run_wrapped(wrapped, raw).splitlines() if line.strip())
    try:
        status = fastjson.loads(raw) if raw and len(raw) <= hookio.MAX_PAYLOAD_BYTES else None
        ours = status_line(status) if isinstance(status, dict) else None
    except Exception:  # noqa: BLE001 - the status line must never break; the error is logged
        hookio.log_error("statusline", sys.exc_info())
        ours = None
    if ours:
        lines.append(coerce.visible(ours))
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
    return 0
