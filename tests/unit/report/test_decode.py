"""The two line decoders (msgspec, and dicts checked in Python) accept, skip and sum alike."""

import itertools
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cco_hooks import ledger, totals, transcript
from cco_hooks.report.decode import DICT_BACKEND, MSGSPEC_BACKEND
from cco_hooks.report.document import build_report
from cco_hooks.report.update import summarize
from tests.support.ledger_records import (
    BACKENDS,
    all_rows,
    all_sessions,
    cold,
    denied,
    run_json,
    session,
    spawn,
    unpriced,
    write_ledger,
)

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


_fields = [
    "v",
    "kind",
    "ts",
    "session_id",
    "project",
    "agent_type",
    "enforced_model",
    "actual_model",
    "status",
    "cost_usd",
    "requested_cost_usd",
    "decision",
    "tokens",
]


@st.composite
def _records(draw):
    rec = draw(
        st.sampled_from(
            [spawn(), denied(), unpriced(), session(), spawn(actual_model="claude-opus-5-5"), spawn(project=None)]
        )
    )
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(_fields + ["tokens.input", "decision.action"]))
        how = draw(st.sampled_from(["set", "delete"]))
        target, _, sub = name.partition(".")
        holder = rec
        if sub:
            if not isinstance(rec.get(target), dict):
                continue
            holder, target = rec[target], sub
        if how == "delete":
            holder.pop(target, None)
        else:
            holder[target] = draw(_values)
    return rec


@pytest.mark.skipif(MSGSPEC_BACKEND is None, reason="msgspec is not installed")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_records(), max_size=8))
def test_msgspec_and_dict_backends_agree(tmp_path, records):
    """Whatever the records hold, both parsers accept, skip and sum exactly alike."""
    path = write_ledger(tmp_path / "h.jsonl", records)
    a, b = cold(path, MSGSPEC_BACKEND), cold(path, DICT_BACKEND)
    assert (all_rows(a), all_sessions(a), a.drift, a.skipped) == (all_rows(b), all_sessions(b), b.drift, b.skipped)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_each_backend_reads_the_sample(sample_ledger, backend):
    doc = build_report([cold(sample_ledger, backend)], "agent")
    assert (doc["totals"]["spawns"], doc["totals"]["denials"], doc["skipped_lines"]) == (7, 1, 0)


def test_field_order_does_not_matter(tmp_path):
    """kind (the tag) may come anywhere in the object."""
    rec = spawn()
    reordered = {k: rec[k] for k in reversed(list(rec))}
    path = write_ledger(tmp_path / "l.jsonl", [reordered])
    for backend in BACKENDS:
        assert all_rows(cold(path, backend)) == all_rows(cold(write_ledger(tmp_path / "m.jsonl", [rec]), backend))


def test_numbers_past_the_fast_path_bounds_are_counted_not_skipped(tmp_path):
    """Token counts and costs past the fast decoder's bounds are records the hooks can write: they
    are read by the hooks' rules and counted exactly; only a negative cost is no record."""
    big = dict(spawn()["tokens"], input=10**13)
    p = write_ledger(
        tmp_path / "l.jsonl", [spawn(tokens=big), spawn(cost_usd=2e6), spawn(cost_usd=-1), session(cost=1e7), spawn()]
    )
    for backend in BACKENDS:
        s = cold(p, backend)
        assert s.skipped == 1
        totals = build_report([s])["totals"]
        assert totals["spawns"] == 3
        assert totals["tokens"]["input"] == 10**13 + 2 * 1000
        assert totals["cost_usd"] == (2 * 12_300_000 + 2_000_000 * 10**9) / 10**9
        assert totals["session_cost_usd"] == 1e7


# ---- the report counts what the hooks wrote, as the budget totals do ---------------------------

_SURROGATES = st.sampled_from(["\ud800", "\udfff", "x\udc80y", "\ud83d"])  # lone: valid JSON, no UTF-8
_hostile_text = st.one_of(st.none(), st.text(max_size=20), _SURROGATES, st.text(max_size=3).map(lambda t: t + "\ud800"))
_extra_value = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2)
)


@st.composite
def _hooks_record(draw, now):
    """A record as the hooks can write it (every field of the right type, by ``records``' rules),
    with values a fast decoder may refuse: lone surrogates, counts past 64 bits, huge finite costs,
    ledger schema v2 with unknown fields."""
    ts = transcript.format_iso(now - draw(st.floats(0, 6.5 * 86400)))  # days the totals keep
    v = draw(st.sampled_from([1, 2]))
    extra = draw(st.dictionaries(st.text(min_size=1, max_size=8), _extra_value, max_size=3))
    if draw(st.integers(0, 5)) == 0:
        rec = session(
            sid=draw(st.one_of(st.none(), st.text(min_size=1, max_size=12), _SURROGATES)),
            cost=draw(st.one_of(st.none(), st.floats(0, 1e300), st.integers(0, 10**20))),
            ts=ts,
            project=draw(_hostile_text),
        )
    else:
        status = draw(st.sampled_from(["completed", "completed", "unpriced", "denied"]))
        maker = {"completed": spawn, "unpriced": unpriced, "denied": denied}[status]
        count = st.one_of(st.integers(0, 10**6), st.integers(0, 10**30))
        cost = st.one_of(st.floats(0, 10), st.floats(0, 1e300), st.integers(0, 10**20))
        rec = maker(
            ts=ts,
            session_id=draw(st.one_of(st.none(), st.text(min_size=1, max_size=12), _SURROGATES)),
            project=draw(_hostile_text),
            agent_type=draw(_hostile_text),
            description=draw(_hostile_text),
            actual_model=draw(st.one_of(st.none(), st.sampled_from(["claude-haiku-5-5", "m\ud800"]))),
            action=draw(st.sampled_from(["rewrite", "deny", "observe", "allow", "none", "unknown"])),
        )
        if status != "denied":
            rec["tokens"] = {name: draw(count) for name in rec["tokens"]}
        if status == "completed":
            rec["cost_usd"] = draw(cost)
            rec["requested_cost_usd"] = draw(st.one_of(st.none(), cost))
    if v == 2:
        rec["requested_source"] = draw(st.sampled_from(["call", "agent_file", "env", "parent"]))
    for key, value in extra.items():
        rec.setdefault(key, value)
    rec["v"] = v
    return rec


_NOW = time.time()
_runs = itertools.count()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_hooks_record(_NOW), min_size=1, max_size=12), st.integers(0, 12))
@example(  # a cost under a nano-dollar: the budget counts its day, the report's day shows $0
    [spawn(ts=transcript.format_iso(_NOW), cost_usd=6.798697634472554e-137, requested_cost_usd=None)], 0
)
def test_report_counts_every_record_the_hooks_wrote_and_agrees_with_the_budget_totals(tmp_path, records, cut):
    """Written by the hooks' own writer (``ledger.append``), every record is counted: nothing is
    skipped, the spawns and denials are all there, and the cost per day and in all equals the
    budget totals' on the same ledger; a saved summary, caught up, says the same as a full scan."""
    path = str(tmp_path / f"l{next(_runs)}.jsonl")
    for rec in records[:cut]:
        ledger.append(path, rec)
    summarize(path).close()  # a summary saved half-way, caught up by the report below
    for rec in records[cut:]:
        ledger.append(path, rec)
    spent = totals.read_totals(path)
    spawns = [r for r in records if r["kind"] == "spawn"]
    for backend in BACKENDS:
        s = cold(path, backend)
        assert s.skipped_lines == 0
        doc = build_report([s], "day")
        assert doc["totals"]["denials"] == sum(r["status"] == "denied" for r in spawns)
        assert doc["totals"]["spawns"] == sum(r["status"] != "denied" for r in spawns)
        s.close()
    doc = run_json([path], group_by="day")
    assert doc["skipped_lines"] == 0
    assert doc["totals"]["tokens"]["input"] == sum(r["tokens"]["input"] for r in spawns if r["status"] != "denied")
    by_day = {row["key"]: row["cost_usd"] for row in doc["rows"]}
    budget_days = {day: v["usd"] for day, v in spent["days"].items()}
    tolerance = 1e-9 * (len(records) + 1)  # the report sums exact nano-dollars: each cost rounded to 1e-9
    for day in by_day.keys() | budget_days.keys():
        assert by_day.get(day, 0.0) == pytest.approx(budget_days.get(day, 0.0), rel=1e-12, abs=tolerance)
    assert doc["totals"]["cost_usd"] == pytest.approx(sum(budget_days.values()), rel=1e-12, abs=tolerance)
