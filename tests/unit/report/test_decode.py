"""The two line decoders (msgspec, and dicts checked in Python) accept, skip and sum alike."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cco_hooks.report.decode import DICT_BACKEND, MSGSPEC_BACKEND
from cco_hooks.report.document import build_report
from tests.support.ledger_records import (
    BACKENDS,
    all_rows,
    all_sessions,
    cold,
    denied,
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
