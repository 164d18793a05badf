"""The counterfactual in the real Claude Code CLI: savings are measured against the model Claude Code
would have run the spawn on without cco-hooks, and that model is the one the CLI really runs.

Each test installs the hooks (`cco-hooks install --scope project`), runs the CLI against the fake
Messages API, settles the ledger with `cco-hooks report`, and compares the ledger's
``requested_source`` / ``requested_model_id`` / ``requested_cost_usd`` / ``savings_usd`` with (1) the
model the subagent's own API requests carried when the hooks left a spawn alone — the CLI's own
answer to "what would it have run" — and (2) an independent price computation (``ledger_prices``)
over the subagent's transcript.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cco_hooks import ledger as ledger_mod
from tests.support.claude_cli import assistant_usages, cco_hooks_cli
from tests.support.fake_api import Scenario, Spawn, Usage
from tests.support.ledger_prices import ReferencePrices
from tests.support.locations import FIXTURES

pytestmark = pytest.mark.e2e

TOL = 1e-9
PRICES = ReferencePrices(FIXTURES / "claude-code-2.1.328-prices.json")
TURNS = (
    Usage(input_tokens=3_000, output_tokens=400, ephemeral_5m_input_tokens=2_000),
    Usage(input_tokens=800, output_tokens=600, cache_read_input_tokens=2_000),
)


def write_agent(project: Path, name: str, model: str | None) -> None:
    agents_dir = project / ".claude" / "agents"
    agents_dir.mkdir(parents=True, exist_ok=True)
    model_line = f"model: {model}\n" if model else ""
    (agents_dir / f"{name}.md").write_text(
        f"---\nname: {name}\ndescription: {name} for the tests\n{model_line}---\nYou are {name}.\n"
    )


def install(project: Path, home: Path, config: str | None) -> None:
    if config is not None:
        (project / ".claude" / "cco-hooks.yaml").write_text(config)
    result = cco_hooks_cli("install", "--scope", "project", project=project, home=home)
    assert result.returncode == 0, result.stderr


def run_spawns(run_e2e, fake_api, tmp_path, spawns, env_extra=None):
    """Run the CLI on ``spawns`` (foreground), settle with the report; the run and the records by
    spawn marker (found through each record's agent id)."""
    ledger = tmp_path / "ledger.jsonl"
    fake_api.set_scenario(Scenario(spawns=[Spawn(**s, turns=TURNS, run_in_background=False) for s in spawns]))
    result = run_e2e(env_extra={"CCO_HOOKS_LEDGER": str(ledger), **(env_extra or {})})
    assert result.returncode == 0, result.describe()
    report = cco_hooks_cli(
        "report",
        "--format",
        "json",
        "--ledger",
        str(ledger),
        project=result.project_dir,
        home=result.home,
        env_extra={"CCO_HOOKS_LEDGER": str(ledger)},
    )
    assert report.returncode == 0, report.stderr
    by_agent = {r["agent_id"]: r for r in ledger_mod.iter_records(str(ledger)) if r.get("kind") == "spawn"}
    records = {}
    for spawn in spawns:
        agent_id = result.agent_id_for(spawn["marker"])
        assert agent_id in by_agent, f"no ledger record for {spawn['marker']}: {sorted(by_agent)}"
        records[spawn["marker"]] = by_agent[agent_id]
    assert len(by_agent) == len(spawns), by_agent
    for marker, r in records.items():  # the figures, for `pytest -s`
        print(
            f"{marker}: ran {r['actual_model']}, requested {r['requested_model_id']} ({r['requested_source']}), "
            f"cost {r['cost_usd']:.6f}, requested {r['requested_cost_usd']:.6f}, savings {r['savings_usd']:+.6f}"
        )
    return result, records


def priced_at(result, marker: str, model: str) -> float:
    """The subagent's own requests (its transcript, each message once) priced at ``model``."""
    usages = [u["usage"] for u in assistant_usages(result.subagent_transcript_for(marker))]
    assert len(usages) == len(TURNS)
    return PRICES.cost(model, usages)


def test_an_agent_file_s_model_is_the_counterfactual_and_an_unchanged_spawn_saves_exactly_zero(
    run_e2e, fake_api, e2e_project, e2e_home, tmp_path
):
    """(a) No cco-hooks config: an agent file says haiku, the spawn names no model. Claude Code runs
    it on haiku anyway, so the ledger says requested haiku (from the agent file) and saved 0.0 —
    not "requested opus (the parent's), saved 90%"."""
    write_agent(e2e_project, "tidy", "haiku")
    install(e2e_project, e2e_home, None)
    result, records = run_spawns(run_e2e, fake_api, tmp_path, [{"marker": "SUB-A", "subagent_type": "tidy"}])
    assert result.model_for("SUB-A") == "claude-haiku-5-5"
    r = records["SUB-A"]
    assert r["v"] == 2
    assert (r["requested_source"], r["requested_model"], r["requested_model_id"]) == (
        "agent_file",
        "haiku",
        "claude-haiku-5-5",
    )
    assert abs(r["cost_usd"] - priced_at(result, "SUB-A", "claude-haiku-5-5")) < TOL
    assert r["requested_cost_usd"] == r["cost_usd"] and r["savings_usd"] == 0.0


def test_a_rewrite_dearer_than_the_agent_file_shows_negative_savings(
    run_e2e, fake_api, e2e_project, e2e_home, tmp_path
):
    """(b) The agent file says haiku, the config says sonnet, the call names no model: rewritten to
    sonnet, the spawn cost more than the haiku it would have run on — negative savings."""
    write_agent(e2e_project, "tidy", "haiku")
    install(e2e_project, e2e_home, "version: 1\nagents: {tidy: sonnet}\n")
    result, records = run_spawns(run_e2e, fake_api, tmp_path, [{"marker": "SUB-B", "subagent_type": "tidy"}])
    assert result.model_for("SUB-B") == "claude-sonnet-5-5"
    r = records["SUB-B"]
    assert r["decision"]["action"] == "rewrite"
    assert (r["requested_source"], r["requested_model_id"]) == ("agent_file", "claude-haiku-5-5")
    cost, requested = priced_at(result, "SUB-B", "claude-sonnet-5-5"), priced_at(result, "SUB-B", "claude-haiku-5-5")
    assert abs(r["cost_usd"] - cost) < TOL and abs(r["requested_cost_usd"] - requested) < TOL
    assert abs(r["savings_usd"] - (requested - cost)) < TOL and r["savings_usd"] < 0


PINNED_OPUS = "claude-opus-4-1-20250805"


def test_a_pinned_alias_is_priced_at_the_pinned_model(run_e2e, fake_api, e2e_project, e2e_home, tmp_path):
    """(c) ANTHROPIC_DEFAULT_OPUS_MODEL pins opus. A call asking for opus routed to haiku: the
    ledger's counterfactual is the pinned model, priced at its rates. A call asking for opus that no
    rule touches shows what the CLI really runs for it: the same pinned model, saving 0."""
    write_agent(e2e_project, "tidy", None)
    write_agent(e2e_project, "free", None)
    install(e2e_project, e2e_home, "version: 1\nagents: {tidy: haiku}\n")
    result, records = run_spawns(
        run_e2e,
        fake_api,
        tmp_path,
        [
            {"marker": "SUB-C", "subagent_type": "tidy", "model": "opus"},
            {"marker": "SUB-F", "subagent_type": "free", "model": "opus"},
        ],
        env_extra={"ANTHROPIC_DEFAULT_OPUS_MODEL": PINNED_OPUS},
    )
    assert result.model_for("SUB-C") == "claude-haiku-5-5"  # the rewrite ran
    assert result.model_for("SUB-F") == PINNED_OPUS  # what "opus" runs on under the pin
    routed, free = records["SUB-C"], records["SUB-F"]
    assert (routed["requested_source"], routed["requested_model_id"]) == ("call", PINNED_OPUS)
    requested = priced_at(result, "SUB-C", PINNED_OPUS)
    assert abs(routed["requested_cost_usd"] - requested) < TOL
    assert abs(routed["savings_usd"] - (requested - priced_at(result, "SUB-C", "claude-haiku-5-5"))) < TOL
    assert free["requested_model_id"] == PINNED_OPUS == free["actual_model"]
    assert free["savings_usd"] == 0.0


def test_the_subagent_model_env_var_is_the_counterfactual_below_the_agent_file(
    run_e2e, fake_api, e2e_project, e2e_home, tmp_path
):
    """(d) CLAUDE_CODE_SUBAGENT_MODEL=sonnet: a spawn of an agent whose file names no model would run
    on sonnet (requested_source env); an agent file's haiku beats it; a file's ``model: inherit``
    runs on the parent's model even with the env var set (read from the binary, checked here)."""
    write_agent(e2e_project, "tidy", None)
    write_agent(e2e_project, "free", None)
    write_agent(e2e_project, "small", "haiku")
    write_agent(e2e_project, "heir", "inherit")
    install(e2e_project, e2e_home, "version: 1\nagents: {tidy: haiku}\n")
    result, records = run_spawns(
        run_e2e,
        fake_api,
        tmp_path,
        [
            {"marker": "SUB-D", "subagent_type": "tidy"},
            {"marker": "SUB-E", "subagent_type": "free"},
            {"marker": "SUB-S", "subagent_type": "small"},
            {"marker": "SUB-H", "subagent_type": "heir"},
        ],
        env_extra={"CLAUDE_CODE_SUBAGENT_MODEL": "sonnet"},
    )
    parent = result.models_for("main")[0]
    assert result.model_for("SUB-D") == "claude-haiku-5-5"
    assert result.model_for("SUB-E") == "claude-sonnet-5-5"
    assert result.model_for("SUB-S") == "claude-haiku-5-5"
    assert result.model_for("SUB-H") == parent
    routed = records["SUB-D"]
    assert (routed["requested_source"], routed["requested_model"], routed["requested_model_id"]) == (
        "env",
        "sonnet",
        "claude-sonnet-5-5",
    )
    requested, cost = priced_at(result, "SUB-D", "claude-sonnet-5-5"), priced_at(result, "SUB-D", "claude-haiku-5-5")
    assert abs(routed["savings_usd"] - (requested - cost)) < TOL and routed["savings_usd"] > 0
    for marker, source in (("SUB-E", "env"), ("SUB-S", "agent_file"), ("SUB-H", "parent")):
        r = records[marker]
        assert r["requested_source"] == source, (marker, r)
        assert r["requested_model_id"] == result.model_for(marker) == r["actual_model"], (marker, r)
        assert r["savings_usd"] == 0.0, (marker, r)


def test_a_fork_s_counterfactual_is_the_parent_s_model(run_e2e, fake_api, e2e_project, e2e_home, tmp_path):
    """(e) A fork runs on its parent's model whatever it names: requested_source parent, the parent's
    model (the main loop's requests), savings 0 (the hooks leave forks alone)."""
    install(e2e_project, e2e_home, "version: 1\nagents: {fork: haiku}\n")
    result, records = run_spawns(
        run_e2e, fake_api, tmp_path, [{"marker": "SUB-K", "subagent_type": "fork", "model": "haiku"}]
    )
    parent = result.models_for("main")[0]
    r = records["SUB-K"]
    assert result.model_for("SUB-K") == parent
    assert (r["requested_source"], r["requested_model"], r["requested_model_id"]) == ("parent", None, parent)
    assert r["decision"]["action"] == "none" and r["savings_usd"] == 0.0
    assert json.dumps(r)  # a plain JSON record
