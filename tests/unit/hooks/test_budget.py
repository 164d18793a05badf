"""Budgets act before the spend: running totals beside the ledger, checked by PreToolUse (issue 5.4)."""

import json
import os
import stat

import pytest

from cco_hooks import budget, ledger, policy
from tests.support.hookproc import SID, Hooks, answer, run_main

OPUS_RUN = 0.4865  # the captured subagent's two requests on claude-opus-5-5 (Claude Code's costUSD)


@pytest.fixture
def hooks(tmp_path):
    return Hooks(tmp_path)


def spend(hooks, n, agent_type="general-purpose", model="claude-opus-5-5", session=SID):
    """A whole foreground spawn through the hooks (in process): PreToolUse, SubagentStop, PostToolUse."""
    tool_use_id, agent_id = f"toolu_s{n}", f"as{n}"
    hooks.write_transcript(agent_id, model=model)
    for event, payload in (("pre-tool-use", hooks.pre(tool_use_id, agent_type)),
                           ("subagent-stop", hooks.stop(agent_id, agent_type)),
                           ("post-tool-use", hooks.post_completed(tool_use_id, agent_id, model, agent_type))):
        payload["session_id"] = session
        assert run_main(event, payload)[0] == 0


def pre(hooks, tool_use_id="toolu_next", agent_type="general-purpose", model="sonnet", session=SID, **kw):
    payload = hooks.pre(tool_use_id, agent_type, model, **kw)
    payload["session_id"] = session
    code, out = run_main("pre-tool-use", payload)
    assert code == 0
    return answer(out)


def denial(out):
    spec = (out or {}).get("hookSpecificOutput") or {}
    return spec.get("permissionDecisionReason") if spec.get("permissionDecision") == "deny" else None


def totals(hooks):
    return json.loads(open(budget.totals_path(hooks.ledger)).read())


# --------------------------------------------------------------------------- deny / downgrade


def test_a_spent_daily_budget_denies_the_next_spawn_naming_the_budget(hooks):
    """After a spawn spends past daily_usd, the next spawn is denied; the reason names the budget,
    the amount and the file it is set in, and the denial is recorded."""
    config = hooks.write_config("version: 1\nbudget: {daily_usd: 0.25}\n")
    assert denial(pre(hooks, "toolu_first")) is None
    spend(hooks, 1)
    reason = denial(pre(hooks))
    assert reason is not None
    assert "daily budget" in reason and "budget.daily_usd" in reason and "$0.2500" in reason and "$0.4865 so far" in reason
    assert str(config) in reason
    records, _ = hooks.records()
    assert records[-1]["status"] == "denied" and records[-1]["decision"]["rule"] == "budget.daily_usd"


def test_the_budget_applies_without_any_routing_rule_and_in_every_mode(hooks):
    """No rule names the agent, the mode is observe: a spent budget still denies."""
    hooks.write_config("version: 1\nmode: observe\nbudget: {daily_usd: 0.000001}\n")
    spend(hooks, 1)
    assert "daily budget" in denial(pre(hooks, agent_type="free-agent", model=None))


def test_session_budget_counts_only_its_own_session(hooks):
    """session_usd: the session that spent is denied; another session is not."""
    hooks.write_config("version: 1\nbudget: {session_usd: 0.3}\n")
    spend(hooks, 1, session="session-a")
    assert "this session's budget" in denial(pre(hooks, session="session-a"))
    assert denial(pre(hooks, "toolu_b", session="session-b")) is None


def test_per_agent_budget_matches_agent_names_like_claude_code(hooks):
    """per_agent caps one agent type per day (any spelling of it); other agents run."""
    hooks.write_config("version: 1\nbudget: {per_agent: {Python Pro: 0.3}}\n")
    spend(hooks, 1, agent_type="python-pro")
    reason = denial(pre(hooks, agent_type="PYTHON_PRO"))
    assert "agent 'python-pro'" in reason and "budget.per_agent" in reason
    assert denial(pre(hooks, "toolu_c", agent_type="code-reviewer")) is None


def test_downgrade_rewrites_new_spawns_to_the_cheap_model(hooks):
    """on_exceed: downgrade turns a spent budget into a rewrite to haiku (or downgrade_to), whatever
    the spawn asked for; a spawn already at or below it is left alone."""
    hooks.write_config("version: 1\nbudget: {daily_usd: 0.1, on_exceed: downgrade}\n")
    spend(hooks, 1)
    for asked in ("opus", "sonnet", None):
        out = pre(hooks, f"toolu_{asked}", model=asked)
        updated = out["hookSpecificOutput"]["updatedInput"]
        assert updated["model"] == "haiku" and updated["prompt"].endswith("do it")
        assert "permissionDecision" not in out["hookSpecificOutput"]
    assert pre(hooks, "toolu_h", model="haiku") is None


def test_downgrade_to_another_model(hooks):
    hooks.write_config("version: 1\nagents: {general-purpose: opus}\n"
                       "budget: {daily_usd: 0.1, on_exceed: downgrade, downgrade_to: claude-sonnet-4-5}\n")
    spend(hooks, 1)
    assert pre(hooks, model="opus")["hookSpecificOutput"]["updatedInput"]["model"] == "sonnet"


def test_a_fork_cannot_be_downgraded_so_it_is_left_as_routed():
    """Claude Code ignores a fork's model: downgrading it would be a lie."""
    verdict = {"exceeded": "daily_usd", "action": "downgrade", "downgrade_to": "haiku", "message": "spent"}
    decision = policy.decide("Agent", {"description": "d", "prompt": "p", "subagent_type": "fork", "model": "opus"},
                             {"mode": "rewrite"}, {}, verdict)
    assert decision["action"] == "none"


# --------------------------------------------------------------------------- warnings


def test_warns_the_user_once_at_the_threshold(hooks):
    """Past warn_at of a cap the user is told (systemMessage) once per cap and day; spawns go on."""
    hooks.write_config("version: 1\nbudget: {daily_usd: 0.9, warn_at: 0.5}\n")
    spend(hooks, 1)
    first = pre(hooks, "toolu_w1")
    assert denial(first) is None and "of the daily budget" in first["systemMessage"] and "54%" in first["systemMessage"]
    second = pre(hooks, "toolu_w2")
    assert second is None or "systemMessage" not in second


# --------------------------------------------------------------------------- what counts


def test_a_stopped_spawn_not_yet_settled_counts_before_the_next_decision(hooks):
    """SubagentStop recorded a spend but its PostToolUse has not come yet (so it is not in the
    ledger): the next decision counts it anyway — and it reaches the totals once, when settled."""
    hooks.write_config("version: 1\nbudget: {daily_usd: 0.3}\n")
    hooks.write_transcript("a1")
    run_main("pre-tool-use", hooks.pre("toolu_1"))
    run_main("subagent-stop", hooks.stop("a1"))
    assert hooks.records()[0] == []  # not settled: the foreground PostToolUse is awaited
    assert "daily budget" in denial(pre(hooks, "toolu_2"))
    run_main("post-tool-use", hooks.post_completed("toolu_1", "a1"))
    day = budget.utc_day()
    assert totals(hooks)["days"][day]["usd"] == pytest.approx(OPUS_RUN)
    assert "daily budget" in denial(pre(hooks, "toolu_3"))
    assert budget.read_totals(hooks.ledger)["days"][day]["usd"] == pytest.approx(OPUS_RUN)


def test_the_decision_reads_the_totals_not_the_ledger(hooks, monkeypatch):
    """With the totals file current, PreToolUse never reads the ledger."""
    hooks.write_config("version: 1\nbudget: {daily_usd: 0.3}\n")
    spend(hooks, 1)
    monkeypatch.setattr(ledger, "iter_records", lambda *a, **k: pytest.fail("the ledger was read"))
    assert "daily budget" in denial(pre(hooks))


def test_totals_file_is_private_small_and_exact(hooks):
    """<ledger>.totals.json: 0600, per day (with agents) and per session, equal to the ledger."""
    hooks.write_config("version: 1\nbudget: {daily_usd: 100}\n")
    spend(hooks, 1, agent_type="python-pro")
    spend(hooks, 2, model="claude-haiku-5-5")
    path = budget.totals_path(hooks.ledger)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = totals(hooks)
    day = data["days"][budget.utc_day()]
    costs = [r["cost_usd"] for r in hooks.records()[0] if r.get("cost_usd")]
    assert day["usd"] == pytest.approx(sum(costs)) and data["sessions"][SID]["usd"] == pytest.approx(sum(costs))
    assert day["agents"]["python-pro"] == pytest.approx(OPUS_RUN)
    assert data["ledger"] == {"ino": os.stat(hooks.ledger).st_ino, "end": os.path.getsize(hooks.ledger)}
    assert os.path.getsize(path) < 1024


def _priced_record(cost, ts=None, session=SID, agent_type="general-purpose", n=0):
    return {"v": 1, "kind": "spawn", "ts": ts or budget.utc_day() + "T12:00:00.000Z", "session_id": session,
            "tool_use_id": f"toolu_r{n}", "agent_type": agent_type, "status": "completed", "priced": True,
            "cost_usd": cost}


def test_totals_catch_up_with_records_they_missed(hooks):
    """A writer killed between its ledger append and its totals update loses nothing: the next
    reader counts the lines past the totals' offset (and saves them when the lock is free)."""
    ledger.append(hooks.ledger, _priced_record(1.0, n=1))
    budget.sync(hooks.ledger)
    ledger.append(hooks.ledger, _priced_record(2.0, n=2))  # no totals update: the crash
    assert budget.read_totals(hooks.ledger)["days"][budget.utc_day()]["usd"] == pytest.approx(3.0)
    assert totals(hooks)["ledger"]["end"] == os.path.getsize(hooks.ledger)  # saved: read once


@pytest.mark.parametrize("damage", ["garbage", "missing", "old-format", "replaced-ledger", "truncated-ledger"])
def test_damaged_or_foreign_totals_are_rebuilt_from_the_ledger(hooks, damage):
    for n, cost in enumerate((1.0, 2.0)):
        ledger.append(hooks.ledger, _priced_record(cost, n=n))
    budget.sync(hooks.ledger)
    path = budget.totals_path(hooks.ledger)
    expected = 3.0
    if damage == "garbage":
        open(path, "wb").write(b"\x00{not json")
    elif damage == "missing":
        os.unlink(path)
    elif damage == "old-format":  # the lead's first format had no ledger offset: it must not be trusted
        open(path, "w").write(json.dumps({"v": 1, "days": {budget.utc_day(): {"usd": 99.0, "agents": {}}},
                                          "sessions": {}}))
    elif damage == "replaced-ledger":
        os.replace(hooks.ledger, hooks.ledger + ".old")
        ledger.append(hooks.ledger, _priced_record(5.0, n=5))
        expected = 5.0
    elif damage == "truncated-ledger":
        os.truncate(hooks.ledger, 0)
        ledger.append(hooks.ledger, _priced_record(0.5, n=6))
        expected = 0.5
    assert budget.read_totals(hooks.ledger)["days"][budget.utc_day()]["usd"] == pytest.approx(expected)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_old_days_are_pruned_and_do_not_count(hooks):
    ledger.append(hooks.ledger, _priced_record(7.0, ts="2020-01-01T00:00:00.000Z", n=1))
    ledger.append(hooks.ledger, _priced_record(1.0, n=2))
    data = budget.sync(hooks.ledger)
    assert list(data["days"]) == [budget.utc_day()]


def test_only_priced_spawns_count(hooks):
    """Denied, unpriced and session records add nothing (an unpriced spawn's cost is unknown, not 0)."""
    ledger.append(hooks.ledger, dict(_priced_record(0.0, n=1), status="denied"))
    ledger.append(hooks.ledger, dict(_priced_record(None, n=2), status="unpriced", priced=False))
    ledger.append(hooks.ledger, {"v": 1, "kind": "session", "ts": budget.utc_day() + "T00:00:00Z",
                                 "session_id": SID, "session_cost_usd": 9.0})
    ledger.append(hooks.ledger, _priced_record(True, n=3))  # a bool is not money
    assert budget.sync(hooks.ledger)["days"] == {}


# --------------------------------------------------------------------------- odd configs and payloads


@pytest.mark.parametrize("section", [
    {"daily_usd": "lots"}, {"daily_usd": True}, {"per_agent": ["x"]}, {"per_agent": {"general-purpose": None}},
    {"warn_at": "soon", "daily_usd": 1}, {"on_exceed": "explode", "daily_usd": 0}, {"session_usd": float("nan")},
])
def test_a_budget_section_of_the_wrong_shape_never_crashes(hooks, section):
    """The snapshot is validated, but the check does not rely on it: odd values are no cap."""
    verdict = budget.check({"session_id": SID, "tool_input": {"subagent_type": 5}}, {"budget": section},
                           hooks.ledger)
    assert verdict is None or verdict.get("action") == "deny"


def test_a_zero_budget_denies_from_the_start(hooks):
    hooks.write_config("version: 1\nbudget: {daily_usd: 0}\n")
    assert "daily budget" in denial(pre(hooks))


@pytest.mark.parametrize("value, text", [(25, "$25.00"), (0.25, "$0.2500"), (0.000001, "$0.000001"),
                                         (0.0, "$0.0000"), (1234.5, "$1,234.50"), (1e-9, "$1e-09")])
def test_money_is_readable_at_every_scale(value, text):
    assert budget._money(value) == text
