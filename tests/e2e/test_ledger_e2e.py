"""The ledger (issue 3) end to end: the real Claude Code CLI (each tested release), our hooks installed with
`cco-hooks install --scope project`, the fake Messages API.

Three parallel spawns of configured agents (python-pro → haiku, chief-architect → opus,
code-reviewer → sonnet), each asking for another model than the configured one, two turns each,
with 5-minute and 1-hour cache writes, cache reads, and one Haiku 5.5 request over 100k prompt
tokens (the long-prompt tier, priced per request). Then:

- the ledger holds exactly one record per spawn (tool_use_id and agent_id unique), completed, priced;
- per model, the subagents' ledger cost == Claude Code's own cost-state ``modelUsage[m].costUSD``
  minus the main loop's share (its own assistant lines in the session transcript, each
  ``message.id`` once, priced by the reference table) — to 1e-9;
- each record's cost and ``requested_cost_usd`` equal an independent computation
  (``ledger_prices``: the reference price table, not ``cco_hooks.pricing``) from the subagent's own
  transcript at the model it ran on and at the model it asked for; ``savings_usd`` is their
  difference (positive and negative here);
- the session record carries cost-state's ``totalCostUSD`` and per-model costs;
- ``cco-hooks report --format json`` by model and by agent gives the same figures.

Variants (seven CLI runs, about 2 s each):

- ``mixed`` / ``background`` / ``foreground``: which of the three spawns run in the background.
- ``wait``: the hooks as installed; SubagentStop waits (``accounting.STOP_WAIT_S``) for the final
  message. A transparent wrapper around our SubagentStop command logs whether the transcript was
  complete when it fired and whether that hook run wrote the record.
- ``race``: the SubagentStop race, made deterministic. Our SubagentStop command receives the stop
  from a Bash PostToolUse inside the subagent — before its final message exists (Claude Code waits
  for that hook) — with exactly the payload Claude Code sends at SubagentStop (the final text the
  fake API will answer); the real SubagentStop is then swallowed, and ``CCO_HOOKS_STOP_WAIT_S=0``
  (accounting's test knob) stops our hook from waiting. So no spawn can be settled at its stop:
  PostToolUse (foreground), a later Stop / SessionEnd (background) must settle it, once.
- ``report``: as ``race``, all background, and our Stop and SessionEnd hooks removed: at least the
  last subagent to finish is still pending when the CLI exits, and ``cco-hooks report`` settles it
  (there is no session record then).

In every layout with a background spawn, one of them (``DELAY_S``) stops after the main loop's
first Stop, as background subagents do. The printed figures (``pytest -s``) show, per run, each
spawn's cost and savings and, per model, ledger vs cost-state minus the main loop's share.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from cco_hooks import ledger as ledger_mod
from cco_hooks import pending as pending_mod
from tests.support.claude_cli import RunResult, assistant_usages, cco_hooks_cli, read_jsonl
from tests.support.fake_api import Scenario, Spawn, Usage
from tests.support.ledger_prices import ReferencePrices
from tests.support.locations import FIXTURES

pytestmark = pytest.mark.e2e

TOL = 1e-9
# The pinned baseline's catalog prices every tested release: the newer ones ship the same models,
# tiers and prices (docs/claude-code-versions.md), and each run checks it against the CLI's own
# cost-state, so a price change in a new release fails here rather than passing unnoticed.
PRICES = ReferencePrices(FIXTURES / "claude-code-2.1.328-prices.json")
MAIN_MODEL = "claude-opus-5-5"

CONFIG = """\
version: 1
mode: rewrite
agents:
  python-pro: haiku
  chief-architect: opus
  code-reviewer: sonnet
"""
AGENTS = {"python-pro": "claude-haiku-5-5", "chief-architect": "claude-opus-5-5", "code-reviewer": "claude-sonnet-5-5"}

# Two turns per subagent: a tool_use turn, then the final answer. Cache writes (5m and 1h), cache
# reads, and one Haiku request over 100k prompt tokens (1,500 + 600 + 100,000 = 102,100 > 100,000).
TURNS = {
    "python-pro": (
        Usage(input_tokens=2_000, output_tokens=300, ephemeral_5m_input_tokens=4_000),
        Usage(input_tokens=1_500, output_tokens=500, cache_read_input_tokens=100_000, ephemeral_1h_input_tokens=600),
    ),
    "chief-architect": (
        Usage(input_tokens=1_200, output_tokens=400, ephemeral_1h_input_tokens=8_000),
        Usage(input_tokens=300, output_tokens=250, cache_read_input_tokens=8_000, ephemeral_5m_input_tokens=700),
    ),
    "code-reviewer": (
        Usage(input_tokens=900, output_tokens=200, ephemeral_5m_input_tokens=3_000, ephemeral_1h_input_tokens=2_000),
        Usage(input_tokens=100, output_tokens=150, cache_read_input_tokens=5_000),
    ),
}
MARKERS = {"python-pro": "SUB-PY", "chief-architect": "SUB-ARCH", "code-reviewer": "SUB-REV"}
MAIN_USAGE = Usage(input_tokens=500, output_tokens=40, cache_read_input_tokens=2_000, ephemeral_5m_input_tokens=300)

# which spawns run in the background, per variant
LAYOUTS = {
    "mixed": {"python-pro": False, "chief-architect": True, "code-reviewer": True},
    "background": {"python-pro": True, "chief-architect": True, "code-reviewer": True},
    "foreground": {"python-pro": False, "chief-architect": False, "code-reviewer": False},
}


# (layout, mode): see the module docstring
VARIANTS = [
    ("mixed", "wait"),
    ("mixed", "race"),
    ("background", "wait"),
    ("background", "race"),
    ("foreground", "wait"),
    ("foreground", "race"),
    ("background", "report"),
]
# a background subagent slow enough to stop after the main loop's first Stop
DELAY_S = {"chief-architect": 0.4}


def requested_models(layout: str) -> dict[str, str | None]:
    """What each spawn asks for: never its configured model. In the single-kind variants the
    code-reviewer names no model, so its counterfactual is the parent's model (opus)."""
    return {
        "python-pro": "sonnet",  # haiku runs: savings > 0
        "chief-architect": "haiku",  # opus runs: savings < 0
        "code-reviewer": "fable" if layout == "mixed" else None,  # sonnet runs: savings > 0
    }


# ----- setup ------------------------------------------------------------------------------------

STOP_HOOK = r"""
# Wraps our SubagentStop command (argv[2:]) or, in the race variant, stands in for it.
#   stop  : the real SubagentStop. Normal variant: runs our hook and logs what it found. Race
#           variant: swallowed (logged only): our hook saw this agent's stop already, early.
#   early : PostToolUse of a Bash call INSIDE a subagent (race variant only): the subagent's final
#           message does not exist yet, so a SubagentStop delivered now is the race, every time.
#           It sends our hook the SubagentStop payload Claude Code will send later (same fields,
#           the final text the fake API is scripted to answer).
import json, os, subprocess, sys
mode, command = sys.argv[1], sys.argv[2:]
payload = json.loads(sys.stdin.buffer.read())
ledger = os.environ["CCO_HOOKS_LEDGER"]
race = os.environ.get("CCO_TEST_RACE") == "1"
agent_id = payload.get("agent_id")
if mode == "early":
    if not agent_id:
        sys.exit(0)  # a Bash call of the main loop
    session_id = payload["session_id"]
    payload = {
        "session_id": session_id, "transcript_path": payload["transcript_path"], "cwd": payload["cwd"],
        "permission_mode": payload.get("permission_mode"), "agent_id": agent_id,
        "agent_type": payload.get("agent_type"), "hook_event_name": "SubagentStop", "stop_hook_active": False,
        "agent_transcript_path": os.path.join(os.path.dirname(payload["transcript_path"]), session_id,
                                              "subagents", f"agent-{agent_id}.jsonl"),
        "last_assistant_message": json.loads(os.environ["CCO_TEST_FINAL_TEXTS"])[payload.get("agent_type")],
        "background_tasks": [], "session_crons": [],
    }
want = payload.get("last_assistant_message") or ""


def transcript_complete():
    try:
        data = open(payload.get("agent_transcript_path") or "", "rb").read()
    except OSError:
        return False
    lines = data.split(b"\n")
    if lines[-1].strip():
        return False  # a torn last line
    for line in reversed([l for l in lines if l.strip()]):
        obj = json.loads(line)
        if obj.get("type") == "assistant":
            return want in [b.get("text") for b in obj["message"].get("content") or [] if b.get("type") == "text"]
    return False


def recorded():
    try:
        lines = open(ledger, "rb").read().splitlines()
    except OSError:
        return False
    return any(json.loads(l).get("agent_id") == agent_id for l in lines if l.strip())


entry = {"mode": mode, "agent_id": agent_id, "agent_type": payload.get("agent_type"),
         "complete_at_stop": transcript_complete(), "recorded_before": recorded(), "ran_our_hook": False, "rc": 0}
if not (mode == "stop" and race):
    proc = subprocess.run(command, input=json.dumps(payload).encode(), capture_output=True)
    sys.stdout.buffer.write(proc.stdout)
    entry.update(ran_our_hook=True, rc=proc.returncode, stderr=proc.stderr.decode()[-500:])
entry["recorded_by_stop"] = entry["ran_our_hook"] and not entry["recorded_before"] and recorded()
with open(os.environ["CCO_TEST_STOP_LOG"], "a") as f:
    f.write(json.dumps(entry) + "\n")
"""


MAIN_STOPPED = "main-stopped"  # created by a Stop hook of the main loop (not in the ``report`` mode)


def setup_project(project: Path, home: Path, tmp: Path, mode: str) -> Path:
    """Agents, config, `cco-hooks install --scope project`, then our SubagentStop command wrapped
    by ``STOP_HOOK`` (and, for the race, the same command run early from a Bash PostToolUse inside
    each subagent; for ``report``, our Stop and SessionEnd hooks removed). Returns the log
    ``STOP_HOOK`` writes."""
    agents_dir = project / ".claude" / "agents"
    agents_dir.mkdir(parents=True, exist_ok=True)
    for name in AGENTS:  # no model: line, so only the routing config decides
        (agents_dir / f"{name}.md").write_text(
            f"---\nname: {name}\ndescription: {name} for the tests\n---\nYou are {name}.\n"
        )
    (project / ".claude" / "cco-hooks.yaml").write_text(CONFIG)
    # local scope: its commands are the absolute shim (argv words this wrapper can run and edit);
    # the project scope's portable shell command is exercised in test_portable_install_e2e.py
    result = cco_hooks_cli("install", "--scope", "local", project=project, home=home)
    assert result.returncode == 0, result.stderr

    settings_path = project / ".claude" / "settings.local.json"
    settings = json.loads(settings_path.read_text())
    script = tmp / "stop_hook.py"
    script.write_text(STOP_HOOK)
    wrapper = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    ours = [
        hook
        for group in settings["hooks"]["SubagentStop"]
        for hook in group["hooks"]
        if hook.get("command", "").endswith(" subagent-stop")
    ]
    assert len(ours) == 1, settings
    command = ours[0]["command"]
    ours[0]["command"] = f"{wrapper} stop {command}"
    if mode in ("race", "report"):
        settings["hooks"].setdefault("PostToolUse", []).append(
            {"matcher": "Bash", "hooks": [{"type": "command", "command": f"{wrapper} early {command}", "timeout": 30}]}
        )
    if mode != "report":
        touch = f"{shlex.quote(sys.executable)} -c 'import sys; open(sys.argv[1], \"a\").close()' "
        touch += shlex.quote(str(tmp / MAIN_STOPPED))
        settings["hooks"]["Stop"].append({"hooks": [{"type": "command", "command": touch, "timeout": 30}]})
    if mode == "report":
        for event, arg in (("Stop", "stop"), ("SessionEnd", "session-end")):
            removed = [h["command"] for group in settings["hooks"].pop(event) for h in group["hooks"]]
            assert removed == [command[: -len("subagent-stop")] + arg], removed
    settings_path.write_text(json.dumps(settings, indent=2))
    return tmp / "stop_log.jsonl"


def scenario(layout: str, main_stopped: Path | None = None) -> Scenario:
    """The spawns of a layout; with ``main_stopped``, the ``DELAY_S`` subagents answer only once
    that file exists (the main loop's Stop hook creates it), so they stop after the first Stop
    however slow the machine is."""
    requested = requested_models(layout)
    spawns = [
        Spawn(
            MARKERS[agent],
            subagent_type=agent,
            model=requested[agent],
            run_in_background=background,
            turns=TURNS[agent],
            description=f"{agent} task",
            delay_s=DELAY_S.get(agent, 0.0) if background else 0.0,
            wait_for_file=str(main_stopped) if main_stopped and background and agent in DELAY_S else None,
        )
        for agent, background in LAYOUTS[layout].items()
    ]
    return Scenario(spawns=spawns, main_usage=MAIN_USAGE)


# ----- reading what happened --------------------------------------------------------------------


def alias_of(model_id: str) -> str:
    return next(alias for alias, target in PRICES.aliases.items() if target == model_id)


def counts(usage: dict) -> dict:
    """The token counts of a usage object (Claude Code adds fields of its own to the transcript's)."""
    return {
        "input_tokens": usage.get("input_tokens"),
        "output_tokens": usage.get("output_tokens"),
        "cache_read_input_tokens": usage.get("cache_read_input_tokens"),
        "cache_creation_input_tokens": usage.get("cache_creation_input_tokens"),
        "cache_creation": usage.get("cache_creation"),
    }


def token_sums(usages) -> dict[str, int]:
    sums = dict.fromkeys(("input", "output", "cache_read", "cache_write_5m", "cache_write_1h"), 0)
    for u in usages:
        one_hour = (u.get("cache_creation") or {}).get("ephemeral_1h_input_tokens") or 0
        sums["input"] += u.get("input_tokens") or 0
        sums["output"] += u.get("output_tokens") or 0
        sums["cache_read"] += u.get("cache_read_input_tokens") or 0
        sums["cache_write_1h"] += one_hour
        sums["cache_write_5m"] += (u.get("cache_creation_input_tokens") or 0) - one_hour
    return sums


def pending_parts(ledger: Path) -> list[str]:
    """Spawn parts still waiting in the pending dir (tombstones and markers are not parts)."""
    pending = ledger.parent / "pending"
    if not pending.is_dir():
        return []
    return sorted(
        p.name for p in pending.iterdir() if p.is_file() and p.name.endswith((".pre.json", ".post.json", ".stop.json"))
    )


def main_loop_share(result: RunResult) -> dict[str, float]:
    """The main loop's own cost per model: its (non-sidechain) assistant lines in the session
    transcript, each message.id once, priced by the reference table."""
    seen: dict[str, dict] = {}
    for line in result.transcript_lines():
        if line.get("type") != "assistant" or line.get("isSidechain"):
            continue
        message = line.get("message") or {}
        if isinstance(message.get("usage"), dict) and message.get("id") not in seen:
            seen[message["id"]] = message
    share: dict[str, float] = defaultdict(float)
    for message in seen.values():
        if message.get("model") == "<synthetic>":
            continue
        share[message["model"]] += PRICES.request_cost(message["model"], message["usage"])
    return dict(share)


def run_report(ledger: Path, group_by: str, home: Path, project: Path, explicit: bool) -> dict:
    """`cco-hooks report --format json --by <group_by> [--ledger <ledger>]` with
    ``CCO_HOOKS_LEDGER=<ledger>`` (the live ledger: the report settles its pending spawns first).
    ``explicit=False`` leaves ``--ledger`` out: a ledger that does not exist yet (every spawn still
    pending) is then fine."""
    args = ["report", "--format", "json", "--by", group_by] + (["--ledger", str(ledger)] if explicit else [])
    proc = cco_hooks_cli(*args, project=project, home=home, env_extra={"CCO_HOOKS_LEDGER": str(ledger)})
    assert proc.returncode == 0, f"`cco-hooks {' '.join(args)}` failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


# ----- the test ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("layout", "mode"), VARIANTS, ids=[f"{layout}-{mode}" for layout, mode in VARIANTS])
def test_ledger_agrees_with_claude_code(
    layout, mode, run_e2e, claude_version, fake_api, e2e_project, e2e_home, tmp_path, monkeypatch
):
    race = mode in ("race", "report")
    ledger = tmp_path / "ledger" / "ledger.jsonl"
    monkeypatch.setenv("CCO_HOOKS_LEDGER", str(ledger))
    stop_log = setup_project(e2e_project, e2e_home, tmp_path, mode)
    test_scenario = scenario(layout, None if mode == "report" else tmp_path / MAIN_STOPPED)
    env_extra = {
        "CCO_HOOKS_LEDGER": str(ledger),
        "CCO_TEST_STOP_LOG": str(stop_log),
        "CCO_TEST_FINAL_TEXTS": json.dumps({agent: test_scenario.spawn(m).report_text for agent, m in MARKERS.items()}),
    }
    if race:
        env_extra.update(CCO_HOOKS_STOP_WAIT_S="0", CCO_TEST_RACE="1")
    fake_api.set_scenario(test_scenario)

    result = run_e2e(env_extra=env_extra)
    assert result.returncode == 0, result.describe()
    assert result.unfinished_subagents() == [], result.describe()
    assert result.requests_for("other") == [], "a side request would be in cost-state but nowhere else"
    stops = read_jsonl(stop_log)
    started = [e.get("hook_event") for e in result.hook_events() if e.get("subtype") == "hook_started"]
    assert started.count("SubagentStop") == 3, started
    if any(LAYOUTS[layout].values()) and mode != "report":
        # a background subagent stopped after the main loop's first Stop (DELAY_S)
        assert "Stop" in started and started.index("Stop") < len(started) - 1 - started[::-1].index("SubagentStop"), (
            started
        )
    pending_after_run = pending_parts(ledger)
    if mode == "report":
        # a hook settles every spawn it can, so only the last subagent to finish (no hook of ours
        # ran after its final message) must still be pending: all its parts wait for the report
        assert len(pending_after_run) >= 3 and len(pending_after_run) % 3 == 0, pending_after_run
        # each spawn's three parts (pre, post, stop) are one pending spawn
        assert pending_mod.count_pending(pending_mod.pending_dir(str(ledger))) == len(pending_after_run) // 3

    # the first report settles what is pending (``report``: at least one spawn, maybe all three, in
    # which case the ledger file does not exist yet: so no --ledger there)
    by_model_report = run_report(ledger, "model", e2e_home, e2e_project, explicit=False)
    by_agent_report = run_report(ledger, "agent", e2e_home, e2e_project, explicit=True)

    records = list(ledger_mod.iter_records(str(ledger)))
    spawns = [r for r in records if r.get("kind") == "spawn"]
    sessions = [r for r in records if r.get("kind") == "session"]
    assert len(records) == len(spawns) + len(sessions)
    assert pending_parts(ledger) == [], "every spawn is settled once the report has run"
    assert by_model_report["pending"] == by_agent_report["pending"] == 0  # and the report says so

    # ---- one record per spawn
    calls = {c.input["subagent_type"]: c for c in result.agent_calls()}
    assert sorted(calls) == sorted(AGENTS)
    assert sorted(r["tool_use_id"] for r in spawns) == sorted(c.tool_use_id for c in calls.values()), spawns
    agent_ids = {agent: result.agent_id_for(MARKERS[agent]) for agent in AGENTS}
    assert sorted(r["agent_id"] for r in spawns) == sorted(agent_ids.values())
    record_of = {r["agent_type"]: r for r in spawns}
    assert sorted(record_of) == sorted(AGENTS)

    # ---- each record against the subagent's own transcript, priced independently
    requested = requested_models(layout)
    cost_by_model: dict[str, float] = defaultdict(float)
    figures = {}
    for agent, actual in AGENTS.items():
        record = record_of[agent]
        marker = MARKERS[agent]
        assert result.model_for(marker) == actual
        assert record["tool_use_id"] == calls[agent].tool_use_id and record["agent_id"] == agent_ids[agent]
        assert record["status"] == "completed" and record["priced"] is True, record
        assert record["unpriced_reason"] is None and record["transcript_complete"] is True, record
        assert record["background"] is LAYOUTS[layout][agent], record
        assert record["decision"]["action"] == "rewrite", record
        assert record["actual_model"] == actual and record["enforced_model"] == alias_of(actual)
        assert record["requested_model"] == requested[agent]
        requested_id = PRICES.alias_model(requested[agent]) if requested[agent] else MAIN_MODEL
        assert record["requested_model_id"] == requested_id

        usages = assistant_usages(result.subagent_transcript_for(marker))
        assert len(usages) == 2 and {u["model"] for u in usages} == {actual}
        # what the transcript holds is exactly what the fake API sent
        assert [counts(u["usage"]) for u in usages] == [counts(r.usage) for r in result.requests_for(marker)]
        assert record["requests"] == 2
        assert record["tokens"] == token_sums(u["usage"] for u in usages), record
        cost = PRICES.cost(actual, (u["usage"] for u in usages))
        requested_cost = PRICES.cost(requested_id, (u["usage"] for u in usages))
        assert record["cost_usd"] == pytest.approx(cost, abs=TOL, rel=0)
        assert record["by_model"] == {actual: {"requests": 2, "cost_usd": pytest.approx(cost, abs=TOL, rel=0)}}
        assert record["requested_cost_usd"] == pytest.approx(requested_cost, abs=TOL, rel=0)
        assert record["savings_usd"] == pytest.approx(requested_cost - cost, abs=TOL, rel=0)
        assert record["savings_usd"] == pytest.approx(record["requested_cost_usd"] - record["cost_usd"], abs=TOL, rel=0)
        for model, entry in record["by_model"].items():
            cost_by_model[model] += entry["cost_usd"]
        figures[agent] = (actual, requested_id, record["cost_usd"], record["requested_cost_usd"], record["savings_usd"])

    # the scenario exercises what it claims: a long-prompt Haiku request, savings of both signs
    py_usages = [u["usage"] for u in assistant_usages(result.subagent_transcript_for(MARKERS["python-pro"]))]
    assert [PRICES.is_long_prompt("claude-haiku-5-5", u) for u in py_usages] == [False, True]
    assert record_of["python-pro"]["savings_usd"] > 0 and record_of["code-reviewer"]["savings_usd"] > 0
    assert record_of["chief-architect"]["savings_usd"] < 0

    # ---- per model: ledger == Claude Code's cost-state minus the main loop's share
    state = result.cost_state()
    assert state is not None and state["sessionId"] == result.session_id, "cost-state is written at exit"
    assert state["hasUnknownModelCost"] is False
    cc_costs = {m: u["costUSD"] for m, u in state["modelUsage"].items()}
    main_share = main_loop_share(result)
    main_from_api = defaultdict(float)
    for request in result.requests_for("main"):
        main_from_api[request.model] += PRICES.request_cost(request.model, request.usage)
    assert main_share.keys() == main_from_api.keys() == {MAIN_MODEL}
    assert main_share[MAIN_MODEL] == pytest.approx(main_from_api[MAIN_MODEL], abs=TOL, rel=0)
    assert set(cc_costs) == set(cost_by_model) | set(main_share)
    for model, cc_cost in cc_costs.items():
        assert cost_by_model.get(model, 0.0) == pytest.approx(cc_cost - main_share.get(model, 0.0), abs=TOL, rel=0), (
            model,
            cost_by_model,
            cc_costs,
            main_share,
        )
    assert sum(cost_by_model.values()) + sum(main_share.values()) == pytest.approx(
        state["totalCostUSD"], abs=TOL, rel=0
    )

    # ---- the session record is Claude Code's own figure
    if mode == "report":
        assert sessions == []  # written by SessionEnd, which this variant does not run
    else:
        assert [r["session_id"] for r in sessions] == [result.session_id], sessions
        session = sessions[-1]
        assert session["session_cost_usd"] == pytest.approx(state["totalCostUSD"], abs=TOL, rel=0)
        assert session["model_costs"] == pytest.approx(cc_costs, abs=TOL, rel=0)
        # the version the session transcript names is the binary's own (each tested release)
        assert session["claude_code_version"] == claude_version

    # ---- the report: one spawn per spawn, the same costs and savings
    for doc, key_of in ((by_model_report, lambda r: r["actual_model"]), (by_agent_report, lambda r: r["agent_type"])):
        rows = {row["key"]: row for row in doc["rows"]}
        assert sorted(rows) == sorted(key_of(r) for r in spawns), doc
        for record in spawns:
            row = rows[key_of(record)]
            assert row["spawns"] == 1 and row["unpriced"] == 0 and row["denials"] == 0, row
            assert row["cost_usd"] == pytest.approx(record["cost_usd"], abs=TOL, rel=0)
            assert row["requested_cost_usd"] == pytest.approx(record["requested_cost_usd"], abs=TOL, rel=0)
            assert row["savings_usd"] == pytest.approx(record["savings_usd"], abs=TOL, rel=0)
        totals = doc["totals"]
        assert totals["spawns"] == 3 and doc["skipped_lines"] == 0
        assert totals["cost_usd"] == pytest.approx(sum(cost_by_model.values()), abs=TOL, rel=0)
        assert totals["savings_usd"] == pytest.approx(totals["requested_cost_usd"] - totals["cost_usd"], abs=TOL, rel=0)
        if mode == "report":
            assert totals["sessions"] == 0 and totals["session_cost_usd"] is None
        else:
            assert totals["sessions"] == 1
            assert totals["session_cost_usd"] == pytest.approx(state["totalCostUSD"], abs=TOL, rel=0)
            assert totals["subagent_cost_in_sessions_usd"] == pytest.approx(sum(cost_by_model.values()), abs=TOL, rel=0)
    for model, cc_cost in cc_costs.items():
        row = next((r for r in by_model_report["rows"] if r["key"] == model), None)
        reported = row["cost_usd"] if row else 0.0
        assert reported == pytest.approx(cc_cost - main_share.get(model, 0.0), abs=TOL, rel=0)

    # ---- the SubagentStop race
    assert all(s["rc"] == 0 for s in stops), stops
    real = {s["agent_id"]: s for s in stops if s["mode"] == "stop"}
    assert sorted(real) == sorted(agent_ids.values()), stops
    early = {s["agent_id"]: s for s in stops if s["mode"] == "early"}
    if race:
        # our hook saw each stop before the final message existed, so it could not settle there:
        # PostToolUse (foreground), a later Stop / SessionEnd or the report (background) did, once
        assert sorted(early) == sorted(agent_ids.values()), stops
        for entry in early.values():
            assert entry["ran_our_hook"] and not entry["complete_at_stop"] and not entry["recorded_by_stop"], entry
        assert not any(entry["ran_our_hook"] for entry in real.values()), stops
    else:
        assert early == {} and all(entry["ran_our_hook"] for entry in real.values()), stops
    ours = early if race else real
    incomplete = [a for a in AGENTS if not ours[agent_ids[a]]["complete_at_stop"]]
    deferred = [a for a in AGENTS if not ours[agent_ids[a]]["recorded_by_stop"]]
    print(
        f"\n[{layout}-{mode}] incomplete at SubagentStop: {incomplete}; "
        f"settled after their SubagentStop: {deferred}; pending after the run: "
        f"{pending_after_run}"
    )
    for agent, (actual, requested_id, cost, requested_cost, savings) in figures.items():
        print(f"  {agent}: {actual} cost {cost!r} | at {requested_id} {requested_cost!r} | savings {savings!r}")
    for model, cc_cost in cc_costs.items():
        print(
            f"  {model}: ledger {cost_by_model.get(model, 0.0)!r} | cost-state {cc_cost!r} - main "
            f"{main_share.get(model, 0.0)!r} = {cc_cost - main_share.get(model, 0.0)!r}"
        )
    if sessions:
        print(
            f"  session: ledger {sessions[-1]['session_cost_usd']!r}"
            f" | cost-state totalCostUSD {state['totalCostUSD']!r}"
        )
