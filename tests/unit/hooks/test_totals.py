"""The running totals beside the ledger: what they count, kept exact through crashes and damage."""

import json
import os
import stat
from pathlib import Path

import pytest

from cco_hooks import files, ledger, totals
from tests.support.hookproc import OPUS_RUN, SID
from tests.support.planted import make_victim, untouched


def totals_file(hooks):
    return json.loads(open(totals.totals_path(hooks.ledger)).read())


def test_priced_spawn_adds_to_the_budget_totals(hooks):
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_transcript("a887642912c4f6be6")
    hooks.run_post(hooks.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    data = json.loads(Path(hooks.ledger + ".totals.json").read_text())
    day = next(iter(data["days"].values()))
    assert day["usd"] == pytest.approx(0.4865, abs=1e-9)
    assert data["sessions"][SID]["usd"] == pytest.approx(0.4865, abs=1e-9)


def test_totals_file_is_private_small_and_exact(hooks):
    """<ledger>.totals.json: 0600, per day (with agents) and per session, equal to the ledger."""
    hooks.write_config("version: 1\nbudget: {daily_usd: 100}\n")
    hooks.spend(1, agent_type="python-pro")
    hooks.spend(2, model="claude-haiku-5-5")
    path = totals.totals_path(hooks.ledger)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = totals_file(hooks)
    day = data["days"][totals.utc_day()]
    costs = [r["cost_usd"] for r in hooks.read_ledger()[0] if r.get("cost_usd")]
    assert day["usd"] == pytest.approx(sum(costs)) and data["sessions"][SID]["usd"] == pytest.approx(sum(costs))
    assert day["agents"]["python-pro"] == pytest.approx(OPUS_RUN)
    assert data["ledger"] == {"ino": os.stat(hooks.ledger).st_ino, "end": os.path.getsize(hooks.ledger)}
    assert os.path.getsize(path) < 1024


def _priced_record(cost, ts=None, session=SID, agent_type="general-purpose", n=0):
    return {
        "v": 1,
        "kind": "spawn",
        "ts": ts or totals.utc_day() + "T12:00:00.000Z",
        "session_id": session,
        "tool_use_id": f"toolu_r{n}",
        "agent_type": agent_type,
        "status": "completed",
        "priced": True,
        "cost_usd": cost,
    }


def test_totals_catch_up_with_records_they_missed(hooks):
    """A writer killed between its ledger append and its totals update loses nothing: the next
    reader counts the lines past the totals' offset (and saves them when the lock is free)."""
    ledger.append(hooks.ledger, _priced_record(1.0, n=1))
    totals.sync(hooks.ledger)
    ledger.append(hooks.ledger, _priced_record(2.0, n=2))  # no totals update: the crash
    assert totals.read_totals(hooks.ledger)["days"][totals.utc_day()]["usd"] == pytest.approx(3.0)
    assert totals_file(hooks)["ledger"]["end"] == os.path.getsize(hooks.ledger)  # saved: read once


@pytest.mark.parametrize("damage", ["garbage", "missing", "old-format", "replaced-ledger", "truncated-ledger"])
def test_damaged_or_foreign_totals_are_rebuilt_from_the_ledger(hooks, damage):
    for n, cost in enumerate((1.0, 2.0)):
        ledger.append(hooks.ledger, _priced_record(cost, n=n))
    totals.sync(hooks.ledger)
    path = totals.totals_path(hooks.ledger)
    expected = 3.0
    if damage == "garbage":
        open(path, "wb").write(b"\x00{not json")
    elif damage == "missing":
        os.unlink(path)
    elif damage == "old-format":  # the lead's first format had no ledger offset: it must not be trusted
        open(path, "w").write(
            json.dumps({"v": 1, "days": {totals.utc_day(): {"usd": 99.0, "agents": {}}}, "sessions": {}})
        )
    elif damage == "replaced-ledger":
        os.replace(hooks.ledger, hooks.ledger + ".old")
        ledger.append(hooks.ledger, _priced_record(5.0, n=5))
        expected = 5.0
    elif damage == "truncated-ledger":
        os.truncate(hooks.ledger, 0)
        ledger.append(hooks.ledger, _priced_record(0.5, n=6))
        expected = 0.5
    assert totals.read_totals(hooks.ledger)["days"][totals.utc_day()]["usd"] == pytest.approx(expected)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_old_days_are_pruned_and_do_not_count(hooks):
    ledger.append(hooks.ledger, _priced_record(7.0, ts="2020-01-01T00:00:00.000Z", n=1))
    ledger.append(hooks.ledger, _priced_record(1.0, n=2))
    data = totals.sync(hooks.ledger)
    assert list(data["days"]) == [totals.utc_day()]


def test_only_priced_spawns_count(hooks):
    """Denied, unpriced and session records add nothing (an unpriced spawn's cost is unknown, not 0)."""
    ledger.append(hooks.ledger, dict(_priced_record(0.0, n=1), status="denied"))
    ledger.append(hooks.ledger, dict(_priced_record(None, n=2), status="unpriced", priced=False))
    ledger.append(
        hooks.ledger,
        {"v": 1, "kind": "session", "ts": totals.utc_day() + "T00:00:00Z", "session_id": SID, "session_cost_usd": 9.0},
    )
    ledger.append(hooks.ledger, _priced_record(True, n=3))  # a bool is not money
    assert totals.sync(hooks.ledger)["days"] == {}


# --------------------------------------------------------------------------- names others can plant


def planted_victim(tmp_path, link):
    victim = make_victim(tmp_path)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink(victim, link)
    return victim


def test_a_link_at_the_old_fixed_temporary_name_is_never_written_through(hooks, tmp_path):
    """``<ledger>.totals.json.tmp`` had one fixed name, opened O_TRUNC: a link planted there
    overwrote its target on the next priced spawn. The temporary name is now the writer's own."""
    victim = planted_victim(tmp_path, hooks.ledger + ".totals.json.tmp")
    hooks.spend(1)
    assert untouched(victim)
    assert totals_file(hooks)["days"][totals.utc_day()]["usd"] == pytest.approx(OPUS_RUN)
    leftovers = [n for n in os.listdir(os.path.dirname(hooks.ledger)) if n.endswith(".tmp")]
    assert leftovers == ["ledger.jsonl.totals.json.tmp"], "only the planted link: no temporary file left"


def test_a_link_at_the_totals_name_is_neither_read_nor_replaced(hooks, tmp_path):
    """Budgets count from the ledger in memory; ``sync`` refuses (``UnsafeFile``) and the link stays."""
    hooks.spend(1)
    path = totals.totals_path(hooks.ledger)
    os.unlink(path)
    victim = planted_victim(tmp_path, path)
    spent = totals.read_totals(hooks.ledger)
    assert spent["days"][totals.utc_day()]["usd"] == pytest.approx(OPUS_RUN)
    with ledger.locked(hooks.ledger), pytest.raises(files.UnsafeFile):
        totals.sync(hooks.ledger)
    assert os.path.islink(path) and untouched(victim)
    assert stat.S_IMODE(os.stat(victim).st_mode) == 0o644
