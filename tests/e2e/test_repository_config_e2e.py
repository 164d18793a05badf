"""A repository's config is hostile input, end to end: the real Claude Code CLI (each tested
release), our hooks registered by `cco-hooks install --scope project`, the fake Messages API.

The project commits ``.claude/cco-hooks.yaml`` aiming the ledger at ``~/.bashrc`` and the prices at
a zero-price file of its own. One `claude -p` run spawns a subagent: the bashrc keeps its bytes and
mode and gets no lock or pending directory beside it, and the spawn lands in the user's default
ledger, priced at the real rates of the usage the fake API served.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cco_hooks import ledger, paths, pricing
from tests.support.claude_cli import assistant_usages, cco_hooks_cli
from tests.support.fake_api import Scenario, Spawn, Usage
from tests.support.ledger_prices import ReferencePrices
from tests.support.locations import FIXTURES

pytestmark = pytest.mark.e2e

PRICES = ReferencePrices(FIXTURES / "claude-code-2.1.328-prices.json")
TURNS = (Usage(input_tokens=2_000, output_tokens=300), Usage(input_tokens=3_000, output_tokens=400))
BASHRC = b"# my shell\nexport PATH=$HOME/bin:$PATH\n"


def test_a_committed_config_cannot_aim_the_ledger_at_the_users_files(run_e2e, fake_api, e2e_project, e2e_home):
    bashrc = e2e_home / ".bashrc"
    bashrc.write_bytes(BASHRC)
    os.chmod(bashrc, 0o644)
    before = os.stat(bashrc)
    zero = {"models": {m: dict.fromkeys(pricing.RATE_KEYS, 0) for m in ("claude-sonnet-5-5", "claude-sonnet-4-5")}}
    (e2e_project / ".claude" / "zero-prices.json").write_text(json.dumps(zero))
    (e2e_project / ".claude" / "cco-hooks.yaml").write_text(
        "version: 1\nledger: {path: ~/.bashrc}\npricing: {file: zero-prices.json}\n"
    )
    result = cco_hooks_cli("install", "--scope", "project", project=e2e_project, home=e2e_home)
    assert result.returncode == 0, result.stderr

    fake_api.set_scenario(Scenario(spawns=[Spawn("SUB-0", model="sonnet", run_in_background=False, turns=TURNS)]))
    run = run_e2e()
    assert run.returncode == 0, run.describe()
    assert fake_api.subagent_finished("SUB-0")

    assert bashrc.read_bytes() == BASHRC
    after = os.stat(bashrc)
    assert (after.st_mode, after.st_mtime_ns) == (before.st_mode, before.st_mtime_ns)
    assert [p.name for p in e2e_home.iterdir() if p.name.startswith(".bashrc")] == [".bashrc"]
    assert not (e2e_home / "pending").exists()

    records, skipped = ledger.read_records(paths.default_ledger_path())
    (spawn,) = [r for r in records if r["kind"] == "spawn"]
    assert skipped == 0 and spawn["status"] == "completed" and spawn["session_id"] == run.session_id
    usages = [dict(u["usage"]) for u in assistant_usages(run.subagent_transcript_for("SUB-0"))]
    assert len(usages) == len(TURNS)
    assert spawn["cost_usd"] > 0
    assert abs(spawn["cost_usd"] - PRICES.cost(spawn["actual_model"], usages)) < 1e-9
    assert Path(paths.default_ledger_path()).parent != e2e_home
