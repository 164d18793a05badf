"""Drift: spawns that ran on another model than the enforced one, counted by cause and listed."""

from tests.support.ledger_records import denied, run, run_json, spawn, unpriced, write_ledger


def test_drift_counts_by_cause_and_lists_spawns(tmp_path):
    """Drift = ran on another model family than enforced; the cause is inferred from the record."""
    path = write_ledger(
        tmp_path / "l.jsonl",
        [
            spawn(tool_use_id="t_ok"),  # ran on the enforced model
            spawn(tool_use_id="t_hook", actual_model="claude-sonnet-5-5"),  # = what Claude asked for
            spawn(tool_use_id="t_fork", agent_type="fork", actual_model="claude-opus-5-5"),
            spawn(tool_use_id="t_old", claude_code_version="2.1.70", actual_model="claude-opus-5-5"),
            spawn(tool_use_id="t_sub", actual_model="claude-fable-5-2"),
            spawn(
                tool_use_id="t_mix",
                actual_model="claude-opus-5-5",
                by_model={
                    "claude-opus-5-5": {"requests": 3, "cost_usd": 0.1},
                    "claude-haiku-5-5": {"requests": 1, "cost_usd": 0.01},
                },
            ),
            spawn(tool_use_id="t_ver", enforced_model="haiku", actual_model="claude-haiku-4-5"),  # same family
            spawn(tool_use_id="t_obs", action="observe", actual_model="claude-sonnet-5-5"),  # not enforced
            unpriced(tool_use_id="t_unp", actual_model="claude-opus-5-5"),  # ran, so it can drift
            denied(tool_use_id="t_den"),
        ],
    )
    d = run_json([path], drift=True)["drift"]
    assert d["spawns"] == 6
    assert d["by_cause"] == {"substituted": 3, "another_hook": 1, "fork": 1, "version_quirk": 1}
    assert list(d["by_cause"]) == ["substituted", "another_hook", "fork", "version_quirk"]
    assert [e["tool_use_id"] for e in d["listed"]] == ["t_hook", "t_fork", "t_old", "t_sub", "t_mix", "t_unp"]
    assert [e["cause"] for e in d["listed"]] == [
        "another_hook",
        "fork",
        "version_quirk",
        "substituted",
        "substituted",
        "substituted",
    ]
    assert set(d["causes"]) == set(d["by_cause"])
    assert d["not_listed"] == 0


def test_drift_limit_keeps_the_latest(tmp_path):
    """--limit N lists the N latest drifted spawns, oldest first, and says how many it left out."""
    path = write_ledger(
        tmp_path / "l.jsonl",
        [
            spawn(tool_use_id=f"t{i}", ts=f"2026-11-2{i}T10:00:00.000Z", actual_model="claude-opus-5-5")
            for i in range(1, 6)
        ],
    )
    d = run_json([path], drift=True, drift_limit=2)["drift"]
    assert [e["tool_use_id"] for e in d["listed"]] == ["t4", "t5"]
    assert d["not_listed"] == 3 and d["spawns"] == 5
    out = run([path], fmt="table", drift=True, drift_limit=2)[1]
    assert "(3 earlier not listed; --limit 0 lists all.)" in out
    assert len(run_json([path], drift=True, drift_limit=0)["drift"]["listed"]) == 5


def test_drift_respects_filters(ledger_path):
    d = run_json([ledger_path], drift=True, since="2026-11-25")["drift"]
    assert d["spawns"] == 1 and len(d["listed"]) == 1
    d = run_json([ledger_path], drift=True, until="2026-11-24")["drift"]
    assert d["spawns"] == 0 and d["listed"] == []
