"""caps: per-spawn caps, enforced by PreToolUse on a running subagent's own tool calls (real hook processes)."""

from __future__ import annotations

import json

import pytest

from cco_hooks import caps, ledger, live
from tests.support.hookproc import SID, Hooks


def subagent_call(hooks: Hooks, agent_id: str, agent_type: str = "general-purpose", n: int = 1) -> dict:
    """PreToolUse of a Bash call made inside subagent ``agent_id``: the public payload's shape."""
    payload = json.loads((hooks_payloads() / "08_PreToolUse_Bash_inside_subagent_of_06.json").read_text())
    payload.update(hooks.base(), agent_id=agent_id, agent_type=agent_type, tool_use_id=f"toolu_b{n}")
    return payload


def hooks_payloads():
    from tests.support.locations import REPO

    return REPO / "tests" / "fixtures" / "payloads-public"


def answer(proc) -> dict | None:
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode().strip()
    return json.loads(text) if text else None


def specific(out):
    return (out or {}).get("hookSpecificOutput") or {}


def test_tool_calls_past_the_cap_are_denied_after_one_wrap_up_note(tmp_path):
    hooks = Hooks(tmp_path)
    hooks.write_config("version: 1\ncaps: {max_tool_calls: 3, warn_at: 0.6}\n")
    hooks.write_transcript("ag1", upto=3)
    outs = [answer(hooks.run("pre-tool-use", subagent_call(hooks, "ag1", n=n))[0]) for n in range(1, 6)]
    assert outs[0] is None  # 1 of 3
    assert "Wrap up now" in specific(outs[1])["additionalContext"]  # 2 of 3 >= 0.6: told once
    assert "permissionDecision" not in specific(outs[1])  # never widens permissions
    assert outs[2] is None  # 3 of 3: still allowed, not told again
    for out in outs[3:]:
        assert specific(out)["permissionDecision"] == "deny"
        reason = specific(out)["permissionDecisionReason"]
        assert "caps.max_tool_calls" in reason and "final report" in reason
    assert caps.capped(hooks.ledger, SID, "ag1") == {"cap": "max_tool_calls", "limit": 3, "at": 4}


def test_a_cost_cap_from_the_transcript_denies_at_once(tmp_path):
    hooks = Hooks(tmp_path)
    hooks.write_config("version: 1\ncaps: {max_usd: 0.01}\n")
    hooks.write_transcript("ag2")  # the captured subagent: ~$0.49 on opus
    out = answer(hooks.run("pre-tool-use", subagent_call(hooks, "ag2"))[0])
    assert specific(out)["permissionDecision"] == "deny" and "caps.max_usd" in specific(out)["permissionDecisionReason"]
    hit = caps.capped(hooks.ledger, SID, "ag2")
    assert hit["cap"] == "max_usd" and hit["at"] == pytest.approx(0.4865)


@pytest.mark.parametrize(("cap", "denied"), [(3, False), (2, True)])
def test_a_request_cap_leaves_room_for_the_report_request(tmp_path, cap, denied):
    """The captured subagent has made 2 API requests: under ``max_requests: 3`` its next call may run
    (the report is the third), under 2 it is denied."""
    hooks = Hooks(tmp_path)
    hooks.write_config(f"version: 1\ncaps: {{max_requests: {cap}}}\n")
    hooks.write_transcript("ag5")
    out = answer(hooks.run("pre-tool-use", subagent_call(hooks, "ag5"))[0])
    if denied:
        assert specific(out)["permissionDecision"] == "deny"
        assert "caps.max_requests" in specific(out)["permissionDecisionReason"]
        assert caps.capped(hooks.ledger, SID, "ag5")["cap"] == "max_requests"
    else:
        assert specific(out).get("permissionDecision") is None
        assert caps.capped(hooks.ledger, SID, "ag5") is None


@pytest.mark.parametrize(("minutes", "denied"), [(10_000_000, False), (60, True)])
def test_a_time_cap_counts_from_the_transcripts_first_line(tmp_path, minutes, denied):
    """The captured transcript began days ago (its first line's timestamp): an hour's cap is spent,
    a cap of years is not."""
    hooks = Hooks(tmp_path)
    hooks.write_config(f"version: 1\ncaps: {{max_minutes: {minutes}}}\n")
    hooks.write_transcript("ag6")
    out = answer(hooks.run("pre-tool-use", subagent_call(hooks, "ag6"))[0])
    if denied:
        assert "caps.max_minutes" in specific(out)["permissionDecisionReason"]
        assert caps.capped(hooks.ledger, SID, "ag6")["cap"] == "max_minutes"
    else:
        assert specific(out).get("permissionDecision") is None


def test_an_agent_rule_caps_its_agent_and_a_repository_can_only_lower_the_top_level_cap(tmp_path):
    hooks = Hooks(tmp_path)
    hooks.write_user_config("version: 1\ncaps: {max_tool_calls: 1}\n")
    hooks.write_config(
        "version: 1\nagents:\n  python-pro: {model: haiku, caps: {max_tool_calls: 50}}\n"
        "  sql-pro: {model: haiku, caps: {max_requests: 0}}\n"
    )
    hooks.write_transcript("ag3", upto=3)
    hooks.write_transcript("ag4", upto=3)
    for n in (1, 2):
        out = answer(hooks.run("pre-tool-use", subagent_call(hooks, "ag3", "python-pro", n))[0])
    assert specific(out)["permissionDecision"] == "deny"  # 50 from the repository is not above the user's 1
    out = answer(hooks.run("pre-tool-use", subagent_call(hooks, "ag4", "sql-pro"))[0])
    assert "caps.max_requests" in specific(out)["permissionDecisionReason"]  # a new, lower cap applies


def test_a_users_rule_may_raise_its_agents_cap(tmp_path):
    hooks = Hooks(tmp_path)
    hooks.write_user_config(
        "version: 1\ncaps: {max_tool_calls: 1}\nagents:\n  python-pro: {model: haiku, caps: {max_tool_calls: 5}}\n"
    )
    hooks.write_transcript("ag5", upto=3)
    outs = [answer(hooks.run("pre-tool-use", subagent_call(hooks, "ag5", "python-pro", n))[0]) for n in (1, 2)]
    assert all(specific(o).get("permissionDecision") != "deny" for o in outs)


def test_without_caps_or_outside_a_subagent_nothing_is_answered_or_written(tmp_path):
    hooks = Hooks(tmp_path)
    hooks.write_transcript("ag6")
    assert answer(hooks.run("pre-tool-use", subagent_call(hooks, "ag6"))[0]) is None
    hooks.write_config("version: 1\ncaps: {max_usd: 0.01}\n")
    main_loop = subagent_call(hooks, "ag6")
    del main_loop["agent_id"], main_loop["agent_type"]
    assert answer(hooks.run("pre-tool-use", main_loop)[0]) is None
    assert not (tmp_path / "live").exists() and not list(tmp_path.glob("**/live/*"))


def test_the_settled_record_says_which_cap_stopped_the_spawn(tmp_path):
    hooks = Hooks(tmp_path)
    hooks.write_config("version: 1\ncaps: {max_usd: 0.01}\n")
    agent_id, tool_use_id = "ag7", "toolu_7"
    hooks.write_transcript(agent_id)
    assert hooks.run_main("pre-tool-use", hooks.pre(tool_use_id))[0] == 0
    out = answer(hooks.run("pre-tool-use", subagent_call(hooks, agent_id))[0])
    assert specific(out)["permissionDecision"] == "deny"
    cursor = live.cursor_path(hooks.ledger, SID, agent_id)
    for event, payload in (
        ("subagent-stop", hooks.stop(agent_id, "general-purpose", path=hooks.transcript_path(agent_id))),
        ("post-tool-use", hooks.post_completed(tool_use_id, agent_id, "claude-opus-5-5", "general-purpose")),
    ):
        assert hooks.run_main(event, payload)[0] == 0
    records, skipped = ledger.read_records(hooks.ledger)
    (record,) = [r for r in records if r["kind"] == "spawn"]
    assert skipped == 0 and record["capped"]["cap"] == "max_usd" and record["capped"]["limit"] == 0.01
    assert live.load_cursor(cursor) is None  # settled: its cursor is gone with its parts


def test_a_call_made_before_the_transcript_exists_is_still_counted(tmp_path):
    """Claude Code may run the subagent's first tool call's hook before it has written the
    subagent's transcript: that call counts, so the cap still allows exactly ``max_tool_calls``."""
    hooks = Hooks(tmp_path)
    hooks.write_config("version: 1\ncaps: {max_tool_calls: 2, warn_at: 1}\n")
    first = answer(hooks.run("pre-tool-use", subagent_call(hooks, "ag7", n=1))[0])  # no transcript yet
    hooks.write_transcript("ag7", upto=3)
    outs = [answer(hooks.run("pre-tool-use", subagent_call(hooks, "ag7", n=n))[0]) for n in (2, 3)]
    assert specific(first).get("permissionDecision") is None
    assert specific(outs[0]).get("permissionDecision") is None  # the 2nd of 2
    assert specific(outs[1])["permissionDecision"] == "deny"  # the 3rd
    assert caps.capped(hooks.ledger, SID, "ag7") == {"cap": "max_tool_calls", "limit": 2, "at": 3}
