"""Benchmark `cco-hooks report` on a realistic ledger.

    python bench/bench_report.py [--lines 1000000] [--reps 5] [--small 100000] [--keep DIR]

Builds the ledgers in a temporary directory (records as the hooks write them: see "realistic ledgers" below),
then measures side by side, in the same run, interleaved and repeated (medians):

- baseline: ``for line in f: json.loads(line)`` over the same file (stdlib, text mode);
- cold report: no summary beside the ledger (the report scans it all and writes the summary);
- warm report: one more record appended (with the hooks' own ``ledger.append``), then the report;
- for reference, the cold scan with the fallback parser (orjson or stdlib dicts, no msgspec);

and the peak RSS of a whole ``cco-hooks report`` process (cold, then warm) at ``--small`` and
``--lines`` lines, read as ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` by a wrapper process
that runs nothing else. Reports render the default table into memory (stdout is not timed).

Targets: cold <= 0.5x baseline, warm <= 0.05x baseline, peak RSS < 100 MB and flat in ledger size.
No timing is asserted anywhere in the tests.
"""

import argparse
import datetime as _dt
import io
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from cco_hooks import ledger  # noqa: E402
from cco_hooks.report.command import run_report  # noqa: E402
from cco_hooks.report.decode import DEFAULT_BACKEND, DICT_BACKEND  # noqa: E402
from cco_hooks.report.parallel import workers_for  # noqa: E402
from cco_hooks.report.summary_file import summary_path  # noqa: E402
from cco_hooks.report.update import summarize  # noqa: E402

# ---- realistic ledgers -------------------------------------------------------------------------
# Records follow the ledger schema v1 (docs/design.md, config/ledger.schema.json) with the values
# real hook runs produce (Claude Code 2.1.328 payloads): UUID session ids,
# toolu_ ids, 17-hex agent ids, descriptions, the routing decision with its rule and config source,
# per-request token counts priced at the real rates, a session record when a session stops. The
# shape is a team's year: 25 projects, sessions of 1-60 spawns on 1-6 agent types out of 40, each
# agent type routed by its own rule (mostly rewrites to a cheaper model), a few denials, unpriced
# spawns and model drift.

# USD per million tokens: input, output, cache_write_5m, cache_write_1h, cache_read
RATES = {
    "claude-haiku-5-5": (0.1, 0.5, 0.125, 0.2, 0.01),
    "claude-sonnet-5-5": (3.0, 15.0, 3.75, 6.0, 0.3),
    "claude-opus-5-5": (5.0, 25.0, 6.25, 10.0, 0.5),
    "claude-fable-5-2": (10.0, 50.0, 12.5, 20.0, 1.0),
}
ALIAS_ID = {
    "haiku": "claude-haiku-5-5",
    "sonnet": "claude-sonnet-5-5",
    "opus": "claude-opus-5-5",
    "fable": "claude-fable-5-2",
}
AGENT_TYPES = [
    "python-pro",
    "code-reviewer",
    "general-purpose",
    "Explore",
    "test-writer",
    "rust-specialist",
    "typescript-pro",
    "frontend-developer",
    "backend-architect",
    "database-optimizer",
    "security-auditor",
    "performance-engineer",
    "devops-troubleshooter",
    "docs-writer",
    "api-designer",
    "debugger",
    "refactoring-expert",
    "data-engineer",
    "ml-engineer",
    "golang-pro",
    "java-architect",
    "sql-pro",
    "cloud-architect",
    "kubernetes-specialist",
    "incident-responder",
    "ui-ux-designer",
    "mobile-developer",
    "graphql-architect",
    "legacy-modernizer",
    "error-detective",
    "context-manager",
    "prompt-engineer",
    "search-specialist",
    "dx-optimizer",
    "deployment-engineer",
    "network-engineer",
    "plugin:review-bot",
    "plugin:lint-fixer",
    "architect-reviewer",
    "tdd-orchestrator",
]
WORDS = (
    "fix the failing test in the parser module and check the edge cases for empty input "
    "review the diff for security issues then summarise findings with file and line numbers "
    "explore the repository layout find where the config is loaded and report the call graph"
).split()


def _rule_for(agent_type, rng):
    """Each agent type has one routing rule: what Claude asks for and what the hook enforces."""
    enforced = rng.choice(["haiku", "haiku", "haiku", "sonnet", "sonnet", "opus"])
    action = rng.choices(["rewrite", "allow", "none", "observe", "deny", "unknown"], [60, 25, 7, 3, 2, 3])[0]
    return {"enforced": enforced, "action": action, "layer": rng.choice(["user", "project", "local"])}


def _cost(model, usage):
    rin, rout, rw5, rw1, rread = RATES[model]
    return (
        usage["input"] * rin
        + usage["output"] * rout
        + usage["cache_write_5m"] * rw5
        + usage["cache_write_1h"] * rw1
        + usage["cache_read"] * rread
    ) / 1e6


def _spawn(rng, session, project, day, second, agent_type, rule, n):
    requested = rng.choice(["sonnet", "opus", "sonnet", None])
    requested_id = ALIAS_ID[requested] if requested else "claude-opus-5-5"
    action = rule["action"]
    enforced = rule["enforced"] if action in ("rewrite", "allow") else requested
    actual = ALIAS_ID[enforced] if enforced else requested_id
    if action in ("none", "observe", "unknown"):
        actual = requested_id
    if rng.random() < 0.01:  # Claude Code substituted a model, another hook won, ...
        actual = rng.choice(list(RATES))
    status = "denied" if action == "deny" else ("unpriced" if rng.random() < 0.02 else "completed")
    requests = rng.randint(1, 40)
    tokens = {
        "input": rng.randint(200, 9000) * requests,
        "output": rng.randint(50, 3000) * requests,
        "cache_read": rng.randint(0, 60000) * requests,
        "cache_write_5m": rng.randint(0, 8000),
        "cache_write_1h": rng.choice([0, 0, 0, rng.randint(0, 12000)]),
    }
    cost = requested_cost = savings = None
    by_model = {}
    unpriced_reason = None
    if status == "completed":
        cost = round(_cost(actual, tokens), 10)
        requested_cost = round(_cost(requested_id, tokens), 10)
        savings = round(requested_cost - cost, 10)
        by_model = {actual: {"requests": requests, "cost_usd": cost}}
    elif status == "unpriced":
        unpriced_reason = rng.choice(["no price for model", "transcript unreadable"])
    if status == "denied":
        tokens = {k: 0 for k in tokens}
        requests = 0
        actual = None
    ms = rng.randint(0, 999)
    hh, rem = divmod(second, 3600)
    mm, ss = divmod(rem, 60)
    desc = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))[:80]
    return {
        "v": 1,
        "kind": "spawn",
        "ts": f"{day}T{hh:02d}:{mm:02d}:{ss:02d}.{ms:03d}Z",
        "session_id": session,
        "project": project,
        "tool_use_id": f"toolu_01{rng.getrandbits(96):024x}",
        "agent_id": f"a{rng.getrandbits(64):016x}",
        "agent_type": agent_type,
        "description": desc,
        "background": rng.random() < 0.7,
        "requested_model": requested,
        "requested_model_id": requested_id,
        "enforced_model": enforced if action in ("rewrite", "allow", "deny") else None,
        "actual_model": actual,
        "decision": {
            "action": action,
            "mode": "observe" if action == "observe" else "rewrite",
            "rule": agent_type,
            "layer": rule["layer"],
            "source": f"{project}/.claude/cco-hooks.yaml"
            if rule["layer"] != "user"
            else "/home/dev/.claude/cco-hooks.yaml",
            "reason": f"agent {agent_type} is routed to {rule['enforced']} by its rule",
        },
        "status": status,
        "priced": status == "completed",
        "tokens": tokens,
        "requests": requests,
        "cost_usd": cost,
        "requested_cost_usd": requested_cost,
        "savings_usd": savings,
        "by_model": by_model,
        "duration_ms": rng.randint(400, 600000),
        "claude_code_version": "2.1.328",
        "unpriced_reason": unpriced_reason,
    }


def records(lines, seed=1):
    """Yield ``lines`` ledger records (spawns, and a session record at each session's end)."""
    rng = random.Random(seed)
    end = _dt.date(2026, 11, 25)
    projects = [
        f"/home/dev/{name}"
        for name in (
            "api",
            "web",
            "cli",
            "infra",
            "docs",
            "billing",
            "search",
            "mobile",
            "ml",
            "etl",
            "auth",
            "gateway",
            "admin",
            "reports",
            "sdk-python",
            "sdk-go",
            "site",
            "bots",
            "ops",
            "payments",
            "notify",
            "storage",
            "cache",
            "queue",
            "monorepo",
        )
    ]
    rules = {agent: _rule_for(agent, rng) for agent in AGENT_TYPES}
    produced = 0
    days = 365
    while produced < lines:
        day = (end - _dt.timedelta(days=int(days * (1 - produced / lines)))).isoformat()
        session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        project = rng.choice(projects)
        agents = rng.sample(AGENT_TYPES, rng.randint(1, 6))
        second = rng.randint(0, 60000)
        spent = 0.0
        for n in range(rng.randint(1, 60)):
            if produced >= lines:
                return
            second = min(second + rng.randint(1, 300), 86399)
            agent = rng.choice(agents)
            rec = _spawn(rng, session, project, day, second, agent, rules[agent], n)
            spent += rec["cost_usd"] or 0.0
            produced += 1
            yield rec
        if produced >= lines:
            return
        produced += 1
        yield {
            "v": 1,
            "kind": "session",
            "ts": f"{day}T23:59:59.000Z",
            "session_id": session,
            "project": project,
            "session_cost_usd": round(spent * rng.uniform(1.2, 3.0), 10),
            "model_costs": {"claude-opus-5-5": round(spent, 10)},
            "claude_code_version": "2.1.328",
        }


def dumps(record):
    """One ledger line as the hooks write it: compact, ASCII-only JSON and a newline."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=True) + "\n"


def write_ledger(path, lines, seed=1):
    with open(path, "w", encoding="utf-8") as f:
        buf = []
        for rec in records(lines, seed):
            buf.append(dumps(rec))
            if len(buf) >= 10000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))
    return path


# ---- a team's merged year ----------------------------------------------------------------------
# One ledger per developer, merged by a glob (``--ledger 'team/*.jsonl'``). Sessions are short
# (1-3 spawns and the session record: ~3 lines a session, 300,000+ sessions in a million lines),
# which is what makes a merged year hard: the per-session rows, not the lines, dominate.
# Written fast: a pool of spawn lines built by ``_spawn`` (real values, all statuses and drift)
# serves as templates; each line fills in only its own ts, session, project and ids. The files
# are written in parallel, one process per file.

_FIELDS = ("ts", "session_id", "project", "tool_use_id", "agent_id")
TEMPLATES = 2000  # distinct spawn lines the developers' files draw from


def _template(record):
    """A ledger line with ``%(field)s`` where its per-line fields go."""
    for name in _FIELDS:
        record[name] = f"@@{name}@@"
    text = dumps(record).replace("%", "%%")
    for name in _FIELDS:
        text = text.replace(f'"@@{name}@@"', f'"%({name})s"')
    return text


def _team_templates(rng):
    rules = {agent: _rule_for(agent, rng) for agent in AGENT_TYPES}
    out = []
    for _ in range(TEMPLATES):
        agent = rng.choice(AGENT_TYPES)
        out.append(_template(_spawn(rng, "s", "/p", "2026-01-01", 0, agent, rules[agent], 0)))
    return out


_SESSION_LINE = (
    '{"v":1,"kind":"session","ts":"%(ts)s","session_id":"%(session_id)s","project":"%(project)s",'
    '"session_cost_usd":%(cost)s,"model_costs":{"claude-opus-5-5":%(cost)s},"claude_code_version":"2.1.328"}\n'
)


def write_developer_ledger(path, lines, seed, templates):
    """One developer's year: ``lines`` lines of sessions of 1-3 spawns and their session record."""
    rng = random.Random(seed)
    projects = [f"/home/dev{seed}/{name}" for name in ("api", "web", "cli", "infra", "docs", "ml", "sdk", "ops")]
    end = _dt.date(2026, 11, 25)
    days = [(end - _dt.timedelta(days=d)).isoformat() for d in range(365, -1, -1)]
    produced = 0
    buf = []
    getrandbits, randint, choice = rng.getrandbits, rng.randint, rng.choice
    with open(path, "w", encoding="utf-8") as f:
        while produced < lines:
            day = days[produced * (len(days) - 1) // lines]
            u = f"{getrandbits(128) & ~(0xF << 76) | (4 << 76):032x}"
            fields = {"session_id": f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}", "project": choice(projects)}
            second = randint(0, 80000)
            for _ in range(randint(1, 3)):
                if produced >= lines:
                    break
                second += randint(1, 300)
                hh, rem = divmod(min(second, 86399), 3600)
                fields["ts"] = f"{day}T{hh:02d}:{rem // 60:02d}:{rem % 60:02d}.{randint(0, 999):03d}Z"
                fields["tool_use_id"] = f"toolu_01{getrandbits(96):024x}"
                fields["agent_id"] = f"a{getrandbits(64):016x}"
                buf.append(choice(templates) % fields)
                produced += 1
            if produced < lines:
                fields["ts"] = f"{day}T23:59:59.000Z"
                fields["cost"] = repr(round(rng.uniform(0.01, 4.0), 6))
                buf.append(_SESSION_LINE % fields)
                produced += 1
            if len(buf) >= 10000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))
    return path


def build_team(directory, lines, files):
    """``files`` developers' ledgers of ``lines`` lines in all under ``directory/team``, written in
    parallel; returns their paths."""
    import multiprocessing

    team = os.path.join(directory, "team")
    os.makedirs(team, exist_ok=True)
    jobs = [
        (os.path.join(team, f"dev-{i:02d}.jsonl"), lines // files + (1 if i < lines % files else 0), 100 + i)
        for i in range(files)
    ]
    start = time.perf_counter()
    templates = _team_templates(random.Random(7))
    jobs = [job + (templates,) for job in jobs]
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        paths = pool.starmap(write_developer_ledger, jobs)
    size = sum(os.path.getsize(p) for p in paths)
    print(
        f"built {team}/*.jsonl: {files} files, {lines:,} lines, {size / 1e6:,.0f} MB "
        f"in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    return paths


# ---- measuring ---------------------------------------------------------------------------------


def baseline(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            json.loads(line)


def report_once(path):
    out, err = io.StringIO(), io.StringIO()
    code = run_report(ledgers=[path], fmt="table", width=80, stdout=out, stderr=err, settle=False, tz="UTC")
    assert code == 0, err.getvalue()
    return out.getvalue()


def drop_summary(path):
    try:
        os.unlink(summary_path(path))
    except FileNotFoundError:
        pass


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def fallback_scan(path):
    summarize(path, use_saved=False, save_summary=False, backend=DICT_BACKEND)


def one_process_report(path):
    """The cold report with the scan kept in one process (CCO_HOOKS_REPORT_WORKERS=1)."""
    os.environ["CCO_HOOKS_REPORT_WORKERS"] = "1"
    try:
        drop_summary(path)
        report_once(path)
    finally:
        del os.environ["CCO_HOOKS_REPORT_WORKERS"]


def one_more_record(path, i):
    rec = next(records(1, seed=1000 + i))
    rec["ts"] = "2026-11-26T00:00:00.000Z"
    ledger.append(path, rec)


_CHILD = (
    "import io, sys; sys.path.insert(0, {repo!r}); from cco_hooks.report.command import run_report; "
    "sys.exit(run_report(ledgers=[{path!r}], stdout=io.StringIO(), settle=False, tz='UTC'))"
)
_WRAPPER = (
    "import resource, subprocess, sys; subprocess.run([sys.executable, '-c', sys.argv[1]], check=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_rss_mb(path):
    """Peak RSS (MB) of a report process, measured by a wrapper whose only child it is."""
    child = _CHILD.format(repo=REPO, path=path)
    out = subprocess.run([sys.executable, "-c", _WRAPPER, child], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024  # ru_maxrss is in KiB on Linux


def idle_rss_mb():
    child = f"import sys; sys.path.insert(0, {REPO!r}); import cco_hooks.report.command"
    out = subprocess.run([sys.executable, "-c", _WRAPPER, child], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def machine():
    return {
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cpus": os.cpu_count(),
        "parser": DEFAULT_BACKEND.name,
        "fallback parser": "orjson" if "orjson" in sys.modules else "stdlib json",
    }


def build(directory, lines):
    path = os.path.join(directory, f"ledger-{lines}.jsonl")
    start = time.perf_counter()
    write_ledger(path, lines)
    size = os.path.getsize(path)
    print(
        f"built {path}: {lines:,} lines, {size / 1e6:,.0f} MB in {time.perf_counter() - start:.1f} s", file=sys.stderr
    )
    return path


# ---- the merged-year shape: whole processes ----------------------------------------------------

_TIMED_CHILD = (
    "import resource, subprocess, sys, time; start = time.perf_counter(); "
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "use = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(time.perf_counter() - start, use.ru_maxrss, use.ru_utime + use.ru_stime)"
)
_BASELINE_SCAN = (
    "import glob, json, sys\n"
    "for path in sorted(glob.glob(sys.argv[1])):\n"
    "    with open(path, encoding='utf-8') as f:\n"
    "        for line in f:\n"
    "            json.loads(line)\n"
)


def whole_process(argv, env):
    """``(wall seconds, peak RSS MB, CPU seconds)`` of one process (and the workers it forks),
    timed and measured by a wrapper whose only child it is (so neither the wrapper's start nor its
    memory counts). CPU time is the figure that holds on a loaded machine."""
    out = subprocess.run(
        [sys.executable, "-c", _TIMED_CHILD, *argv], capture_output=True, text=True, check=True, env=env
    )
    seconds, kib, cpu = out.stdout.split()
    return float(seconds), int(kib) / 1024, float(cpu)


def team_report_argv(pattern):
    return [sys.executable, "-m", "cco_hooks", "report", "--ledger", pattern, "--tz", "UTC"]


def main_team(args):
    """The merged-year shape: ``--files`` developers' ledgers read as ``--ledger 'team/*.jsonl'``;
    with ``--before DIR``, that tree's ``cco_hooks`` measured too, interleaved, on the same files."""
    directory = args.keep or tempfile.mkdtemp(prefix="cco-bench-")
    os.makedirs(directory, exist_ok=True)
    home = os.path.join(directory, "home")  # the report's own paths, never the real home
    os.makedirs(home, exist_ok=True)
    env = dict(
        os.environ,
        HOME=home,
        CLAUDE_CONFIG_DIR=os.path.join(home, ".claude"),
        CCO_HOOKS_LEDGER=os.path.join(home, "ledger.jsonl"),
    )
    env.pop("CCO_HOOKS_REPORT_WORKERS", None)
    trees = [("after", REPO)] + ([("before", os.path.abspath(args.before))] if args.before else [])
    try:
        team = os.path.join(directory, "team")
        paths = []
        if args.keep and os.path.isdir(team):
            paths = sorted(os.path.join(team, n) for n in os.listdir(team) if n.endswith(".jsonl"))
        if not paths:
            paths = build_team(directory, args.lines, args.files)
        lines = sum(sum(1 for _ in open(p, "rb")) for p in paths)
        sessions = sum(sum(1 for line in open(p, "rb") if b'"kind":"session"' in line) for p in paths)
        size = sum(os.path.getsize(p) for p in paths)
        pattern = os.path.join(team, "*.jsonl")
        baseline_argv = [sys.executable, "-c", _BASELINE_SCAN, pattern]

        def drop_summaries():
            for p in paths:
                drop_summary(p)

        # Warm the page cache once, so the first repetition is not special.
        whole_process(baseline_argv, env)
        base = []
        runs = {(tree, kind): [] for tree, _ in trees for kind in ("cold", "warm")}
        summary_bytes = {}
        for i in range(args.reps):
            base.append(whole_process(baseline_argv, env))
            for tree, code in trees:
                tree_env = dict(env, PYTHONPATH=code)
                drop_summaries()
                runs[tree, "cold"].append(whole_process(team_report_argv(pattern), tree_env))
                summary_bytes[tree] = sum(os.path.getsize(summary_path(p)) for p in paths)
                one_more_record(paths[i % len(paths)], i)
                runs[tree, "warm"].append(whole_process(team_report_argv(pattern), tree_env))
            print(
                f"rep {i + 1}/{args.reps}: baseline {base[-1][0]:.3f} s; "
                + "; ".join(
                    f"{tree}: cold {runs[tree, 'cold'][-1][0]:.3f} s, warm {runs[tree, 'warm'][-1][0] * 1000:.0f} ms"
                    for tree, _ in trees
                ),
                file=sys.stderr,
            )
        med = statistics.median
        b_wall = med(r[0] for r in base)
        b_cpu = med(r[2] for r in base)
        print()
        print("cco-hooks report benchmark: a team's merged year (whole processes)")
        for k, v in machine().items():
            print(f"  {k:<16} {v}")
        print(
            f"  ledgers          {len(paths)} files, {lines:,} lines, {sessions:,} sessions, "
            f"{size / 1e6:,.0f} MB; medians of {args.reps} interleaved repetitions"
        )
        load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else "?"
        print(f"  load average     {load} (at the end)")
        print()
        print(f"  {'measure':<46} {'wall':>10} {'ratio':>7} {'CPU':>9} {'ratio':>7} {'peak RSS':>9} {'target':>7}")

        def row(name, results, target):
            wall, cpu, rss = med(r[0] for r in results), med(r[2] for r in results), max(r[1] for r in results)
            shown = f"{wall:.3f} s" if wall >= 1 else f"{wall * 1000:.1f} ms"
            print(
                f"  {name:<46} {shown:>10} {wall / b_wall:>6.3f}x {cpu:>7.2f} s {cpu / b_cpu:>6.3f}x "
                f"{rss:>6.1f} MB {target:>7}"
            )

        row("baseline: json.loads every line, one process", base, "")
        for tree, _ in trees:
            row(f"{tree}: cold report (no summaries; writes them)", runs[tree, "cold"], "<= 0.5")
            row(f"{tree}: warm report (one more record in one file)", runs[tree, "warm"], "<= 0.05")
        print()
        for tree, _ in trees:
            print(
                f"  {tree}: summaries beside the ledgers {summary_bytes[tree] / 1e6:.1f} MB in all "
                f"({summary_bytes[tree] / size:.1%} of the ledgers); peak RSS target < 100 MB"
            )
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--small", type=int, default=100_000, help="the smaller ledger for the memory check")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--keep", help="build the ledgers in this directory and keep them (reused if there)")
    ap.add_argument(
        "--shape",
        choices=("ledger", "merged-year"),
        default="ledger",
        help="one ledger (default), or a team's merged year: --files ledgers of short sessions",
    )
    ap.add_argument("--files", type=int, default=16, help="merged-year: how many developers' ledgers")
    ap.add_argument("--before", metavar="DIR", help="merged-year: also measure this tree's cco_hooks, interleaved")
    args = ap.parse_args(argv)
    if args.shape == "merged-year":
        return main_team(args)

    directory = args.keep or tempfile.mkdtemp(prefix="cco-bench-")
    os.makedirs(directory, exist_ok=True)
    try:
        big = build(directory, args.lines)
        small = build(directory, args.small) if args.small and args.small != args.lines else None

        # Warm the page cache and the imports once, so the first repetition is not special.
        baseline(big)
        drop_summary(big)
        report_once(big)

        base, cold, single, warm, fallback = [], [], [], [], []
        for i in range(args.reps):
            base.append(timed(baseline, big))
            single.append(timed(one_process_report, big))
            drop_summary(big)
            cold.append(timed(report_once, big))
            one_more_record(big, i)
            warm.append(timed(report_once, big))
            fallback.append(timed(fallback_scan, big))
            print(
                f"rep {i + 1}/{args.reps}: baseline {base[-1]:.3f} s, cold {cold[-1]:.3f} s "
                f"(one process {single[-1]:.3f} s), warm {warm[-1] * 1000:.1f} ms, "
                f"fallback scan {fallback[-1]:.3f} s",
                file=sys.stderr,
            )

        rss = {}
        for label, path in (("small", small), ("big", big)):
            if path is None:
                continue
            drop_summary(path)
            rss[label] = (peak_rss_mb(path), peak_rss_mb(path))  # cold (no summary), then warm
            n = args.small if label == "small" else args.lines
            rss[label] = rss[label] + (n,)

        med = statistics.median
        b = med(base)
        workers = workers_for(os.path.getsize(big))
        print()
        print("cco-hooks report benchmark")
        for k, v in machine().items():
            print(f"  {k:<16} {v}")
        print(
            f"  ledger           {args.lines:,} lines, {os.path.getsize(big) / 1e6:,.0f} MB; "
            f"medians of {args.reps} interleaved repetitions"
        )
        print()
        print(
            f"  load average     {open('/proc/loadavg').read().split()[:3] if os.path.exists('/proc/loadavg') else '?'}"
        )
        print()
        print(f"  {'measure':<44} {'median':>10} {'ratio':>8} {'target':>8}")
        rows = [
            ("baseline: for line in f: json.loads(line)", b, 1.0, ""),
            (f"cold report (no summary; writes it; {workers} proc.)", med(cold), med(cold) / b, "<= 0.5"),
            ("cold report, scan in one process", med(single), med(single) / b, ""),
            ("warm report (after one more record)", med(warm), med(warm) / b, "<= 0.05"),
            (f"cold scan, fallback parser ({machine()['fallback parser']})", med(fallback), med(fallback) / b, ""),
        ]
        for name, value, ratio, target in rows:
            shown = f"{value:.3f} s" if value >= 1 else f"{value * 1000:.1f} ms"
            print(f"  {name:<44} {shown:>10} {ratio:>7.3f}x {target:>8}")
        print()
        print(
            f"  peak RSS of a report process "
            f"(python -c 'import cco_hooks.report.command' alone: {idle_rss_mb():.0f} MB)"
        )
        for label in ("small", "big"):
            if label in rss:
                c, w, n = rss[label]
                print(f"  {n:>12,} lines: cold {c:6.1f} MB   warm {w:6.1f} MB   (target < 100 MB)")
        summary_size = os.path.getsize(summary_path(big))
        print(f"  summary beside the {args.lines:,}-line ledger: {summary_size / 1e6:.1f} MB")
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
