"""live: a running subagent's cost and requests, read from its transcript a little at a time."""

from __future__ import annotations

from cco_hooks import live, transcript
from tests.support.hookproc import Hooks


def whole_cost(path, prices):
    usage = transcript.read_usage(str(path))
    return sum(prices.cost(r["model"], r["usage"]) for r in usage.requests), len(usage.requests)


def test_the_running_cost_of_a_whole_transcript_is_what_the_settle_prices(tmp_path):
    hooks = Hooks(tmp_path)
    path = hooks.write_transcript("a1")
    state = live.read_running(str(path), None, hooks.prices)
    usd, requests = whole_cost(path, hooks.prices)
    assert usd > 0 and state["usd_now"] == usd and state["requests_now"] == requests
    assert state["offset"] == path.stat().st_size and state["first_ts"] is not None


def test_read_line_by_line_it_adds_up_to_the_same(tmp_path):
    """Each call reads only what was appended since (the offset moves), torn tails included."""
    hooks = Hooks(tmp_path)
    lines = hooks.transcript_lines("a2")
    path = hooks.transcript_path("a2")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    state = None
    offsets = []
    for line in lines:
        with open(path, "a") as f:
            f.write(line[: len(line) // 2])  # a torn line first: not counted yet
        state = live.read_running(str(path), state, hooks.prices)
        offsets.append(state["offset"])
        with open(path, "a") as f:
            f.write(line[len(line) // 2 :])
        state = live.read_running(str(path), state, hooks.prices)
        assert state["offset"] == path.stat().st_size
    usd, requests = whole_cost(path, hooks.prices)
    assert state["usd_now"] == usd and state["requests_now"] == requests
    assert offsets == sorted(offsets) and len(set(offsets)) == len(lines)


def test_the_cursor_round_trips_and_a_rewritten_transcript_is_counted_again(tmp_path):
    hooks = Hooks(tmp_path)
    path = hooks.write_transcript("a3")
    cursor = live.cursor_path(hooks.ledger, "sess", "a3")
    state = live.read_running(str(path), None, hooks.prices)
    live.save_cursor(cursor, state)
    assert cursor.endswith("/live/sess.a3.json")
    loaded = live.load_cursor(cursor)
    assert loaded["offset"] == state["offset"]
    path.unlink()
    short = hooks.write_transcript("a3", upto=3)  # a new file (new inode), shorter
    again = live.read_running(str(short), loaded, hooks.prices)
    assert again["offset"] == short.stat().st_size
    assert again["usd_now"] < state["usd_now"]
    live.forget(hooks.ledger, "sess", "a3")
    assert live.load_cursor(cursor) is None


def test_a_missing_or_unsafe_transcript_changes_nothing(tmp_path):
    hooks = Hooks(tmp_path)
    state = live.read_running(str(tmp_path / "nope.jsonl"), None, hooks.prices)
    assert state["usd_now"] == 0 and state["offset"] == 0
    outside = tmp_path.parent / "outside.jsonl"
    assert live.read_running(str(outside), None, hooks.prices, roots=[str(hooks.config)])["offset"] == 0
    assert live.cursor_path(hooks.ledger, "s", "../x") is None


def test_wait_for_line_sees_a_line_written_after_the_call_began(tmp_path):
    """Claude Code writes a response's line a little after the hook of its tool call may run."""
    import threading

    hooks = Hooks(tmp_path)
    path = hooks.write_transcript("a4", upto=2)
    late = '{"type":"assistant","message":{"id":"m9","content":[{"type":"tool_use","id":"toolu_late"}]}}\n'

    def append():
        with open(path, "a") as f:
            f.write(late)

    timer = threading.Timer(0.05, append)
    timer.start()
    try:
        assert live.wait_for_line(str(path), b'"toolu_late"', 10.0)
    finally:
        timer.join()
    assert not live.wait_for_line(str(path), b'"toolu_never"', 0.0)
    assert not live.wait_for_line(str(tmp_path / "missing.jsonl"), b"x", 0.0)


def test_what_the_caller_counts_survives_the_transcript_appearing_or_being_rewritten(tmp_path):
    """A subagent's first tool call can come before its transcript exists: the caps' own counts kept
    in the state (tool calls, the warning, the verdict) must not be lost when the file appears, or
    when it is rewritten; only what is read from the transcript starts over."""
    hooks = Hooks(tmp_path)
    path = hooks.transcript_path("a4")
    state = live.read_running(str(path), None, hooks.prices)  # not there yet
    state.update(tool_calls=1, warned="max_tool_calls", seen_at=5.0)
    hooks.write_transcript("a4")
    state = live.read_running(str(path), state, hooks.prices)
    assert (state["tool_calls"], state["warned"], state["seen_at"]) == (1, "max_tool_calls", 5.0)
    assert state["requests_now"] == whole_cost(path, hooks.prices)[1] > 0
    path.unlink()
    hooks.write_transcript("a4", upto=3)  # rewritten: a new inode
    state = live.read_running(str(path), dict(state, tool_calls=2), hooks.prices)
    assert state["tool_calls"] == 2 and state["offset"] == path.stat().st_size
