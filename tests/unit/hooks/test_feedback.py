"""``feedback: true``: the orchestrator is told each spawn's model, cost and the budget left."""

from cco_hooks import budget
from tests.support.hookproc import COST, OPUS_RUN, SID, answer


def context(out):
    return ((out or {}).get("hookSpecificOutput") or {}).get("additionalContext")


def foreground_spawn(hooks, n, model="claude-opus-5-5", agent_type="general-purpose"):
    """PreToolUse, SubagentStop, then PostToolUse of one foreground spawn: PostToolUse's answer."""
    tool_use_id, agent_id = f"toolu_f{n}", f"af{n}"
    hooks.write_transcript(agent_id, model=model)
    assert hooks.run_main("pre-tool-use", hooks.pre(tool_use_id, agent_type))[0] == 0
    assert hooks.run_main("subagent-stop", hooks.stop(agent_id, agent_type))[0] == 0
    code, out = hooks.run_main("post-tool-use", hooks.post_completed(tool_use_id, agent_id, model, agent_type))
    assert code == 0
    return answer(out)


def test_without_feedback_post_tool_use_tells_claude_nothing(hooks):
    hooks.write_config("version: 1\nbudget: {session_usd: 5}\n")
    assert context(foreground_spawn(hooks, 1)) is None


def test_a_settled_spawn_is_told_with_its_model_cost_and_the_budget_left(hooks):
    hooks.write_config("version: 1\nfeedback: true\nbudget: {session_usd: 5, daily_usd: 25}\n")
    first = context(foreground_spawn(hooks, 1))
    assert first.startswith("cco-hooks: the general-purpose spawn ran on claude-opus-5-5")
    assert f"cost {budget.format_usd(OPUS_RUN)}" in first
    assert f"this session {budget.format_usd(5 - OPUS_RUN)} of $5.00" in first
    assert f"today {budget.format_usd(25 - OPUS_RUN)} of $25.00" in first
    second = context(foreground_spawn(hooks, 2, model="claude-haiku-5-5"))
    assert "ran on claude-haiku-5-5" in second and f"cost {budget.format_usd(COST['claude-haiku-5-5'])}" in second
    spent = OPUS_RUN + COST["claude-haiku-5-5"]
    assert f"this session {budget.format_usd(5 - spent)} of $5.00" in second


def test_a_rewritten_spawn_is_told_what_routing_saved(hooks):
    hooks.write_config("version: 1\nfeedback: true\nagents: {python-pro: haiku}\n")
    told = context(foreground_spawn(hooks, 1, model="claude-haiku-5-5", agent_type="python-pro"))
    saved = COST["claude-sonnet-5-5"] - COST["claude-haiku-5-5"]  # the call asked for sonnet
    assert f"saved {budget.format_usd(saved)} against claude-sonnet-5-5" in told
    assert told.endswith("No budget is set.")


def test_a_background_spawn_is_told_it_counts_once_it_finishes(hooks):
    hooks.write_config("version: 1\nfeedback: true\nbudget: {session_usd: 1}\n")
    assert hooks.run_main("pre-tool-use", hooks.pre("toolu_bg", background=True))[0] == 0
    code, out = hooks.run_main("post-tool-use", hooks.post_async("toolu_bg", "abg"))
    told = context(answer(out))
    assert "runs in the background on claude-haiku-5-5" in told
    assert "Budget left: this session $1.00 of $1.00." in told


def test_a_budget_denial_carries_the_figures(hooks):
    hooks.write_config("version: 1\nfeedback: true\nbudget: {daily_usd: 0.25}\n")
    foreground_spawn(hooks, 1)
    payload = hooks.pre("toolu_next")
    out = answer(hooks.run_main("pre-tool-use", payload)[1])
    reason = out["hookSpecificOutput"]["permissionDecisionReason"]
    assert "budget.daily_usd" in reason  # the denial's own reason stays first
    assert reason.endswith("Budget left: today $0.0000 of $0.2500.")


def test_a_budget_downgrade_tells_claude_as_additional_context(hooks):
    # the user's own layer: a repository's may not turn a denial into a downgrade
    hooks.write_user_config(
        "version: 1\nfeedback: true\nbudget: {session_usd: 0.25, on_exceed: downgrade, downgrade_to: haiku}\n"
    )
    foreground_spawn(hooks, 1)
    out = answer(hooks.run_main("pre-tool-use", hooks.pre("toolu_next", model="opus"))[1])
    spec = out["hookSpecificOutput"]
    assert spec["updatedInput"]["model"] == "haiku"
    assert "Downgraded from opus to haiku" in spec["additionalContext"]
    assert spec["additionalContext"].endswith("Budget left: this session $0.0000 of $0.2500.")


def test_an_enforce_denial_carries_the_budget_left(hooks):
    hooks.write_config(
        "version: 1\nfeedback: true\nmode: enforce\nagents: {python-pro: haiku}\nbudget: {session_usd: 2}\n"
    )
    out = answer(hooks.run_main("pre-tool-use", dict(hooks.pre("toolu_e", "python-pro"), session_id=SID))[1])
    reason = out["hookSpecificOutput"]["permissionDecisionReason"]
    assert 'Retry the Agent call with model: "haiku"' in reason
    assert reason.endswith("(cco-hooks feedback: python-pro on haiku.) Budget left: this session $2.00 of $2.00.")
