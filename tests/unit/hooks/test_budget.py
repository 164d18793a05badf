"""Budgets act before the spend: the cap check PreToolUse runs against the running totals."""

import json

import pytest

from cco_hooks import budget, ledger, policy, totals
from tests.support.hookproc import OPUS_RUN, SID, answer


def pre(hooks, tool_use_id="toolu_next", agent_type="general-purpose", model="sonnet", session=SID, **kw):
    payload = hooks.pre(tool_use_id, agent_type, model, **kw)
    payload["session_id"] = session
    code, out = hooks.run_main("pre-tool-use", payload)
    assert code == 0
    return answer(out)


def denial(out):
    spec = (out or {}).get("hookSpecificOutput") or {}
    return spec.get("permissionDecisionReason") if spec.get("permissionDecision") == "deny" else None


def totals_file(hooks):
    return json.loads(open(totals.totals_path(hooks.ledger)).read())


# --------------------------------------------------------------------------- deny / downgrade


def test_a_spent_daily_budget_denies_the_next_spawn_naming_the_budget(hooks):
    """After a spawn spends past daily_usd, the next spawn is denied; the reason names the budget,
    the amount and the file it is set in, and the denial is recorded."""
    config = hooks.write_config("version: 1\nbudget: {daily_usd: 0.25}\n")
    assert denial(pre(hooks, "toolu_first")) is None
    hooks.spend(1)
    reason = denial(pre(hooks))
    assert reason is not None
    assert (
        "daily budget" in reason and "budget.daily_usd" in reason and "$0.2500" in reason and "$0.4865 so far" in reason
    )
    assert str(config) in reason
    records, _ = hooks.read_ledger()
    assert records[-1]["status"] == "denied" and records[-1]["decision"]["rule"] == "budget.daily_usd"


def test_a_denial_names_the_file_the_spent_cap_came_from(hooks):
    """The user's daily cap, a per-agent cap added by the project: the daily denial names the user's
    file (the budget's last contributor is the project), and the record carries it too."""
    user_layer = hooks.write_user_config("version: 1\nbudget: {daily_usd: 0.25}\n")
    hooks.write_config("version: 1\nbudget: {per_agent: {python-pro: 5}}\n")
    hooks.spend(1)
    reason = denial(pre(hooks))
    assert f"set in {user_layer})" in reason
    records, _ = hooks.read_ledger()
    assert records[-1]["decision"]["source"] == str(user_layer)


def test_the_budget_applies_without_any_routing_rule_and_in_every_mode(hooks):
    """No rule names the agent, the mode is observe: a spent budget still denies."""
    hooks.write_config("version: 1\nmode: observe\nbudget: {daily_usd: 0.000001}\n")
    hooks.spend(1)
    assert "daily budget" in denial(pre(hooks, agent_type="free-agent", model=None))


def test_session_budget_counts_only_its_own_session(hooks):
    """session_usd: the session that spent is denied; another session is not."""
    hooks.write_config("version: 1\nbudget: {session_usd: 0.3}\n")
    hooks.spend(1, session="session-a")
    assert "this session's budget" in denial(pre(hooks, session="session-a"))
    assert denial(pre(hooks, "toolu_b", session="session-b")) is None


def test_per_agent_budget_matches_agent_names_like_claude_code(hooks):
    """per_agent caps one agent type per day (any spelling of it); other agents run."""
    hooks.write_config("version: 1\nbudget: {per_agent: {Python Pro: 0.3}}\n")
    hooks.spend(1, agent_type="python-pro")
    reason = denial(pre(hooks, agent_type="PYTHON_PRO"))
    assert "agent 'python-pro'" in reason and "budget.per_agent" in reason
    assert denial(pre(hooks, "toolu_c", agent_type="code-reviewer")) is None


def test_a_per_agent_glob_caps_every_agent_it_matches_as_routing_would(hooks):
    """A cap on ``python-*`` governs ``Python Pro`` and the plugin agent ``my-plugin:python-pro``
    (routing's matching: normalised, ``plugin:name`` also as ``name``); the spend of every agent it
    governs counts against it, and agents it does not match run."""
    hooks.write_config("version: 1\nbudget: {per_agent: {python-*: 0.3}}\n")
    assert denial(pre(hooks, "toolu_a", agent_type="Python Pro")) is None
    hooks.spend(1, agent_type="my-plugin:python-helper")
    reason = denial(pre(hooks, "toolu_b", agent_type="Python Pro"))
    assert "agents matching 'python-*'" in reason and "budget.per_agent" in reason and "$0.4865 so far" in reason
    assert "agents matching 'python-*'" in denial(pre(hooks, "toolu_c", agent_type="my-plugin:python-pro"))
    assert denial(pre(hooks, "toolu_d", agent_type="rust-pro")) is None
    records, _ = hooks.read_ledger()
    assert records[-2]["decision"]["rule"] == "budget.per_agent.python-*"


def test_a_per_agent_name_caps_the_plugin_agent_of_that_name(hooks):
    """``per_agent: {python-pro: ...}`` also caps ``my-plugin:python-pro``, as a routing rule on
    ``python-pro`` routes it; the two share the cap."""
    hooks.write_config("version: 1\nbudget: {per_agent: {python-pro: 0.3}}\n")
    hooks.spend(1, agent_type="my-plugin:python-pro")
    assert "agent 'python-pro'" in denial(pre(hooks, "toolu_a", agent_type="python_pro"))
    assert "agent 'python-pro'" in denial(pre(hooks, "toolu_b", agent_type="other-plugin:Python Pro"))


@pytest.mark.parametrize("exact_cap, glob_cap", [(0.3, 100), (100, 0.3)])
def test_every_per_agent_key_that_matches_is_a_cap(hooks, exact_cap, glob_cap):
    """``python-pro`` is under its own cap AND under ``python-*``, which all python agents share: a
    key never frees an agent from another key's cap, so adding one can only tighten."""
    hooks.write_config(f"version: 1\nbudget: {{per_agent: {{python-*: {glob_cap}, python-pro: {exact_cap}}}}}\n")
    hooks.spend(1, agent_type="python-pro")
    reason = denial(pre(hooks, "toolu_a", agent_type="Python Pro"))
    assert reason is not None
    assert ("agent 'python-pro'" in reason) == (exact_cap < 1)
    assert ("agents matching 'python-*'" in reason) == (glob_cap < 1)
    other = denial(pre(hooks, "toolu_b", agent_type="python-other"))
    assert (other is not None) == (glob_cap < 1)  # python-pro's spend counts against python-* too


def test_a_glob_counts_the_spend_of_every_agent_it_matches(hooks):
    """The most specific key is named first, but every matching glob is checked with the spend of all
    the agents it covers."""
    hooks.write_config("version: 1\nbudget: {per_agent: {'*': 100, python-*: 100, python-p*: 0.3}}\n")
    hooks.spend(1, agent_type="python-pro")
    assert "agents matching 'python-p*'" in denial(pre(hooks, "toolu_a", agent_type="python-prime"))
    assert denial(pre(hooks, "toolu_b", agent_type="python-x")) is None
    assert denial(pre(hooks, "toolu_c", agent_type="rust-pro")) is None


def test_per_agent_caps_are_normalised_and_ordered_exact_first():
    """Normalised keys, exact keys first, then globs most specific first; keys without a number dropped."""
    caps = budget.per_agent_caps(
        {"per_agent": {"Python Pro": 1, "python-*": 2, "*": 3, "py*": "x", "my-plugin:rust_pro": 4}}
    )
    assert caps == [("my-plugin:rust-pro", 4), ("python-pro", 1), ("python-*", 2), ("*", 3)]
    assert budget.cap_matches("python-pro", "other-plugin:Python Pro")
    assert budget.cap_matches("python-*", "my-plugin:python_debugger")
    assert not budget.cap_matches("my-plugin:rust-pro", "rust-pro")


def test_downgrade_rewrites_new_spawns_to_the_cheap_model(hooks):
    """on_exceed: downgrade turns a spent budget into a rewrite to haiku (or downgrade_to), whatever
    the spawn asked for; a spawn already at or below it is left alone."""
    hooks.write_user_config("version: 1\nbudget: {daily_usd: 0.1, on_exceed: downgrade}\n")
    hooks.spend(1)
    for asked in ("opus", "sonnet", None):
        out = pre(hooks, f"toolu_{asked}", model=asked)
        updated = out["hookSpecificOutput"]["updatedInput"]
        assert updated["model"] == "haiku" and updated["prompt"].endswith("do it")
        assert "permissionDecision" not in out["hookSpecificOutput"]
    assert pre(hooks, "toolu_h", model="haiku") is None


def test_a_downgrade_tells_the_user_as_a_denial_does(hooks):
    """Real hook processes: each spawn a spent budget downgrades carries a systemMessage naming the
    cap, what was spent, the file and both models; a spawn the budget leaves alone carries none."""
    user_layer = hooks.write_user_config("version: 1\nbudget: {daily_usd: 0.1, on_exceed: downgrade}\n")
    hooks.spend(1)
    for tool_use_id in ("toolu_d1", "toolu_d2"):  # every downgraded spawn, as every denied one
        proc, _ = hooks.run("pre-tool-use", hooks.pre(tool_use_id, model="opus"))
        out = answer(proc.stdout)
        assert out["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
        message = out["systemMessage"]
        assert message.startswith("cco-hooks: the daily budget (budget.daily_usd, UTC day ")
        assert "of $0.1000 is spent ($0.4865 so far; set in " + str(user_layer) + ")" in message
        assert message.endswith("Downgraded from opus to haiku.")
    assert hooks.run("pre-tool-use", hooks.pre("toolu_h", model="haiku"))[0].stdout == b""


def test_downgrade_to_another_model(hooks):
    hooks.write_config("version: 1\nagents: {general-purpose: opus}\n")
    hooks.write_user_config(
        "version: 1\nbudget: {daily_usd: 0.1, on_exceed: downgrade, downgrade_to: claude-sonnet-4-5}\n"
    )
    hooks.spend(1)
    assert pre(hooks, model="opus")["hookSpecificOutput"]["updatedInput"]["model"] == "sonnet"


def test_a_fork_cannot_be_downgraded_so_it_is_left_as_routed():
    """Claude Code ignores a fork's model: downgrading it would be a lie."""
    verdict = {"exceeded": "daily_usd", "action": "downgrade", "downgrade_to": "haiku", "message": "spent"}
    decision = policy.decide(
        "Agent",
        {"description": "d", "prompt": "p", "subagent_type": "fork", "model": "opus"},
        {"mode": "rewrite"},
        {},
        verdict,
    )
    assert decision["action"] == "none"


# --------------------------------------------------------------------------- warnings


def test_warns_the_user_once_at_the_threshold(hooks):
    """Past warn_at of a cap the user is told (systemMessage) once per cap and day; spawns go on."""
    hooks.write_config("version: 1\nbudget: {daily_usd: 0.9, warn_at: 0.5}\n")
    hooks.spend(1)
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
    hooks.run_main("pre-tool-use", hooks.pre("toolu_1"))
    hooks.run_main("subagent-stop", hooks.stop("a1"))
    assert hooks.read_ledger()[0] == []  # not settled: the foreground PostToolUse is awaited
    assert "daily budget" in denial(pre(hooks, "toolu_2"))
    hooks.run_main("post-tool-use", hooks.post_completed("toolu_1", "a1"))
    day = totals.utc_day()
    assert totals_file(hooks)["days"][day]["usd"] == pytest.approx(OPUS_RUN)
    assert "daily budget" in denial(pre(hooks, "toolu_3"))
    assert totals.read_totals(hooks.ledger)["days"][day]["usd"] == pytest.approx(OPUS_RUN)


def test_the_decision_reads_the_totals_not_the_ledger(hooks, monkeypatch):
    """With the totals file current, PreToolUse never reads the ledger."""
    hooks.write_config("version: 1\nbudget: {daily_usd: 0.3}\n")
    hooks.spend(1)
    monkeypatch.setattr(ledger, "iter_records", lambda *a, **k: pytest.fail("the ledger was read"))
    assert "daily budget" in denial(pre(hooks))


# --------------------------------------------------------------------------- odd configs and payloads


@pytest.mark.parametrize(
    "section",
    [
        {"daily_usd": "lots"},
        {"daily_usd": True},
        {"per_agent": ["x"]},
        {"per_agent": {"general-purpose": None}},
        {"warn_at": "soon", "daily_usd": 1},
        {"on_exceed": "explode", "daily_usd": 0},
        {"session_usd": float("nan")},
    ],
)
def test_a_budget_section_of_the_wrong_shape_never_crashes(hooks, section):
    """The snapshot is validated, but the check does not rely on it: odd values are no cap."""
    verdict = budget.check({"session_id": SID, "tool_input": {"subagent_type": 5}}, {"budget": section}, hooks.ledger)
    assert verdict is None or verdict.get("action") == "deny"


def test_a_zero_budget_denies_from_the_start(hooks):
    hooks.write_config("version: 1\nbudget: {daily_usd: 0}\n")
    assert "daily budget" in denial(pre(hooks))


@pytest.mark.parametrize(
    "value, text",
    [
        (25, "$25.00"),
        (0.25, "$0.2500"),
        (0.000001, "$0.000001"),
        (0.0, "$0.0000"),
        (1234.5, "$1,234.50"),
        (1e-9, "$1e-09"),
    ],
)
def test_money_is_readable_at_every_scale(value, text):
    assert budget.format_usd(value) == text


# --------------------------------------------------------------------------- the caps' day


def _spend_at(hooks, ts, cost=1.0, n=0):
    ledger.append(
        hooks.ledger,
        {"v": 1, "kind": "spawn", "ts": ts, "session_id": SID, "tool_use_id": f"toolu_z{n}", "cost_usd": cost},
    )


@pytest.mark.parametrize(
    "timezone, where", [("+05:30", "+05:30"), ("Asia/Kolkata", "Asia/Kolkata"), ("local", "local")]
)
def test_the_daily_cap_resets_at_midnight_in_budget_timezone(hooks, monkeypatch, timezone, where):
    """budget.timezone moves the caps' day: a spend at 17:00 UTC is yesterday's in Kolkata by
    19:00 UTC (00:30 there), still today's in UTC; a spend at 19:00 UTC counts on Kolkata's new day.
    The totals for that zone are a file of their own, marked with the zone."""
    import time

    from cco_hooks import zones

    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        day = totals.utc_day()
        at = {hour: zones.ts_epoch(f"{day}T{hour}:00:00.000Z") for hour in ("17", "19", "23")}
        _spend_at(hooks, f"{day}T17:00:00.000Z", n=1)
        utc = {"budget": {"daily_usd": 0.5}}
        zoned = {"budget": {"daily_usd": 0.5, "timezone": timezone}}
        assert budget.check({}, utc, hooks.ledger, now=at["19"])["exceeded"] == "daily_usd"
        assert budget.check({}, zoned, hooks.ledger, now=at["19"]) is None  # a new day there
        _spend_at(hooks, f"{day}T19:00:00.000Z", n=2)
        verdict = budget.check({}, zoned, hooks.ledger, now=at["23"])
        next_day = zones.zone("+05:30").day(at["23"])
        assert verdict["exceeded"] == "daily_usd"
        assert f"(budget.daily_usd, {where} day {next_day})" in verdict["message"]
        assert "($1.00 so far" in verdict["message"]  # only the 19:00 spend: the 17:00 one was the day before
        zone_file = totals.totals_path(hooks.ledger, budget.day_zone(zoned["budget"]))
        assert zone_file != totals.totals_path(hooks.ledger)
        data = json.loads(open(zone_file).read())
        assert data["zone"] == budget.day_zone(zoned["budget"]).ident and list(data["days"]) == [day, next_day]
        assert "zone" not in totals_file(hooks)  # the accounting's UTC file is left as it was
    finally:
        monkeypatch.undo()
        time.tzset()


def test_totals_counted_in_another_zone_are_rebuilt_not_trusted(hooks):
    """A zone file whose days were counted in another zone (its marker differs) is rebuilt."""
    from cco_hooks import zones

    day = totals.utc_day()
    _spend_at(hooks, f"{day}T23:30:00.000Z")
    paris, plus_two = zones.zone("Europe/Paris"), zones.zone("+02:00")
    counted = totals.read_totals(hooks.ledger, paris)
    path = totals.totals_path(hooks.ledger, paris)
    with open(path) as f:
        data = json.load(f)
    data["zone"] = plus_two.ident
    data["days"] = {"1999-01-01": {"usd": 99.0, "agents": {}}}
    with open(path, "w") as f:
        json.dump(data, f)
    assert totals.read_totals(hooks.ledger, paris)["days"] == counted["days"]
