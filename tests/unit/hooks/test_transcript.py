"""Transcript reading: dedupe by message.id, torn and garbage lines, non-regular files, tails."""

import json
import os
import threading

import pytest

from cco_hooks import pricing, transcript
from tests.support.locations import FIXTURES, PAYLOADS, PUBLIC_PAYLOADS

PUBLIC = PUBLIC_PAYLOADS / "transcripts" / "agent-a34e270.jsonl"
SUBAGENT = PAYLOADS / "subagent-transcript.jsonl"
SESSION = PAYLOADS / "session-transcript.jsonl"


def assistant(
    msg_id, model="claude-opus-5-5", text=None, tool=False, stop=None, usage=None, ts="2026-11-25T20:12:50.931Z"
):
    content = []
    if text is not None:
        content.append({"type": "text", "text": text})
    if tool:
        content.append({"type": "tool_use", "id": "toolu_x", "name": "Bash", "input": {}})
    return {
        "type": "assistant",
        "timestamp": ts,
        "version": "2.1.328",
        "message": {
            "id": msg_id,
            "model": model,
            "content": content,
            "stop_reason": stop,
            "usage": usage if usage is not None else {"input_tokens": 10, "output_tokens": 5},
        },
    }


def write_lines(path, objs, tail=b""):
    data = b"".join(json.dumps(o).encode() + b"\n" for o in objs) + tail
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- real transcripts


def test_public_transcript_dedup_sums_match_sources_md():
    t = transcript.read_usage(str(PUBLIC))
    assert t.error is None
    assert len(t.requests) == 23
    totals = t.totals()
    assert totals["input"] == 25
    assert totals["output"] == 96
    assert totals["cache_write_5m"] + totals["cache_write_1h"] == 32450
    assert totals["cache_write_1h"] == 32450 and totals["cache_write_5m"] == 0
    assert totals["cache_read"] == 563234
    assert t.models() == {"claude-haiku-4-5-20251001": 23}
    assert t.torn_lines == 0 and not t.torn_tail
    assert t.version == "2.1.38"
    # every line has stop_reason null (pre-2.1.97): never "final" on its own
    assert not t.final and not t.complete


def test_public_transcript_naive_sums_would_be_wrong():
    naive = {"input": 0, "cache_read": 0}
    for line in PUBLIC.read_text().splitlines():
        obj = json.loads(line)
        if obj.get("type") == "assistant":
            naive["input"] += obj["message"]["usage"]["input_tokens"]
            naive["cache_read"] += obj["message"]["usage"]["cache_read_input_tokens"]
    assert naive == {"input": 44, "cache_read": 1049203}


def test_2_1_328_subagent_transcript():
    t = transcript.read_usage(str(SUBAGENT), expect_last_text="report from SUB-2")
    assert [r["id"] for r in t.requests] == ["msg_dce883bd26d9463e9868e168", "msg_544a02d84fc34afbbe138bd1"]
    assert t.requests[0]["usage"] == {
        "input": 1500,
        "output": 300,
        "cache_read": 0,
        "cache_write_5m": 2000,
        "cache_write_1h": 10000,
        "web_search_requests": 0,
    }
    assert t.complete and t.matched and t.final
    assert t.last_stop_reason == "end_turn"
    assert t.version == "2.1.328"
    assert t.duration_ms() == 504  # 20:12:50.593 → 20:12:51.097


def test_expectation_that_does_not_match_is_incomplete():
    t = transcript.read_usage(str(SUBAGENT), expect_last_text="some other text")
    assert t.matched is False and not t.complete
    assert t.final  # but the transcript does end on a final stop_reason
    t = transcript.read_usage(str(SUBAGENT), expect_digest=transcript.text_digest("  report from SUB-2\n"))
    assert t.complete


def test_session_transcript_dedupes_its_three_block_message():
    t = transcript.read_usage(str(SESSION))
    assert len(t.requests) == 2
    assert t.totals()["input"] == 240 and t.totals()["output"] == 18


# --------------------------------------------------------------------------- robustness


def test_missing_file(tmp_path):
    t = transcript.read_usage(str(tmp_path / "nope.jsonl"))
    assert t.error == transcript.MISSING and not t.complete and t.requests == []
    t = transcript.read_usage(str(tmp_path / "nodir" / "x" / "nope.jsonl"))
    assert t.error == transcript.MISSING


def test_empty_file(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"")
    t = transcript.read_usage(str(path), expect_last_text="x")
    assert t.error is None and t.requests == [] and not t.complete and not t.torn_tail


def test_torn_last_line_is_skipped_and_counted(tmp_path):
    full = json.dumps(assistant("m2", text="done", stop="end_turn")).encode()
    path = write_lines(tmp_path / "t.jsonl", [assistant("m1", tool=True, stop="tool_use")], tail=full[: len(full) // 2])
    t = transcript.read_usage(str(path), expect_last_text="done")
    assert t.torn_tail and t.torn_lines == 1
    assert [r["id"] for r in t.requests] == ["m1"]
    assert not t.complete
    # once the line is whole it is complete
    write_lines(path, [assistant("m1", tool=True, stop="tool_use"), assistant("m2", text="done", stop="end_turn")])
    t = transcript.read_usage(str(path), expect_last_text="done")
    assert t.complete and not t.torn_tail and len(t.requests) == 2


def test_last_line_whole_but_without_newline_counts(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(json.dumps(assistant("m1", text="done", stop="end_turn")).encode())
    t = transcript.read_usage(str(path), expect_last_text="done")
    assert t.complete and len(t.requests) == 1


def test_final_message_missing_is_incomplete(tmp_path):
    path = write_lines(tmp_path / "t.jsonl", [assistant("m1", tool=True, stop="tool_use")])
    t = transcript.read_usage(str(path), expect_last_text="done")
    assert not t.complete and t.matched is False
    t = transcript.read_usage(str(path))
    assert not t.complete and not t.final


def test_garbage_lines(tmp_path):
    lines = [
        b"not json at all",
        b'\xff\xfe\x00 binary "assistant"',
        b'{"type": "assistant", "message": "a string"}',
        b'{"type": "assistant", "message": {"id": 5, "model": 7, "usage": "lots", "content": 3}}',
        b'{"type": "assistant", "message": {"id": "g1", "model": ["x"], '
        b'"usage": {"input_tokens": "9", "output_tokens": -4}}}',
        b'["assistant", 1, 2]',
        b'"assistant"',
        b"12",
        b"null",
        b'{"type": "assistant"',
        b'{"type": ["assistant"], "message": {"id": "z"}}',
        b'{"type": "assistant", "message": {"id": "ok", "model": "claude-opus-5-5", "stop_reason": 3, '
        b'"content": [1, null, {"type": "text", "text": 4}, {"type": "text", "text": "fine"}], '
        b'"usage": {"input_tokens": 3, "output_tokens": 2, "cache_creation": [], "server_tool_use": 1}}}',
        b"",
        b"   ",
    ]
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    t = transcript.read_usage(str(path), expect_last_text="fine")
    assert t.error is None
    assert [r["id"] for r in t.requests] == ["ok"]  # the others have no usable usage / shape
    assert t.requests[0]["usage"]["input"] == 3
    assert t.torn_lines >= 3
    assert t.complete  # the final message is whole and matches


def test_deeply_nested_line_does_not_crash(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"type":"assistant","message":' + b"[" * 100000 + b"]" * 100000 + b"}\n")
    t = transcript.read_usage(str(path))
    assert t.error is None and t.requests == []


def test_dev_zero_and_other_non_regular_files_are_refused(tmp_path):
    assert transcript.read_usage("/dev/zero").error == transcript.NOT_REGULAR
    assert transcript.read_usage(str(tmp_path)).error == transcript.NOT_REGULAR
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    found = []
    reader = threading.Thread(target=lambda: found.append(transcript.read_usage(str(fifo)).error), daemon=True)
    reader.start()
    reader.join(30)  # a guard against a blocking open, not a timing assertion
    assert found == [transcript.NOT_REGULAR]


@pytest.mark.parametrize("bad", [None, 5, b"/x", "", "a\0b", ["x"], {"p": 1}])
def test_bad_paths(bad):
    t = transcript.read_usage(bad)
    assert t.error is not None and not t.complete


def test_size_cap(tmp_path):
    path = write_lines(tmp_path / "t.jsonl", [assistant(f"m{i}") for i in range(100)])
    assert transcript.read_usage(str(path), size_cap=1000).error == transcript.TOO_LARGE
    assert transcript.read_usage(str(path)).error is None
    assert transcript.DEFAULT_SIZE_CAP == 256 * 1024 * 1024


def test_unreadable_file(tmp_path, monkeypatch):
    """A transcript the hook may not open is reported as unreadable, not raised.

    (Tests run as root in CI, where chmod 0 does not stop reads: the refusal is simulated.)"""
    path = write_lines(tmp_path / "t.jsonl", [assistant("m1")])
    real_open = os.open

    def refuse(target, *args, **kwargs):
        if os.fspath(target) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(target, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    assert transcript.read_usage(str(path)).error == transcript.UNREADABLE


def test_20_mb_transcript(tmp_path):
    """A long subagent run: ~20 MB with big tool results and progress lines, read in well under
    a second or two, every message.id counted once."""
    filler = {"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "content": "x" * 20000}]}}
    progress = {
        "type": "progress",
        "data": {"message": {"type": "assistant", "message": {"id": "nested", "usage": {"input_tokens": 999}}}},
    }
    objs = []
    n = 0
    size = 0
    while size < 20 * 1024 * 1024:
        usage = {
            "input_tokens": 2,
            "output_tokens": 3,
            "cache_read_input_tokens": 1000,
            "cache_creation_input_tokens": 10,
            "cache_creation": {"ephemeral_1h_input_tokens": 4},
        }
        objs.append(assistant(f"msg_{n}", text="t", usage=usage))
        objs.append(assistant(f"msg_{n}", tool=True, usage=usage))
        objs.append(filler)
        objs.append(progress)
        n += 1
        size += 20500
    objs.append(assistant("final", text="all done", stop="end_turn", usage={"input_tokens": 1, "output_tokens": 1}))
    path = write_lines(tmp_path / "big.jsonl", objs)
    assert path.stat().st_size > 20 * 1024 * 1024
    t = transcript.read_usage(str(path), expect_last_text="all done")
    assert t.complete
    assert len(t.requests) == n + 1
    totals = t.totals()
    assert totals["input"] == 2 * n + 1
    assert totals["cache_write_1h"] == 4 * n and totals["cache_write_5m"] == 6 * n


def test_repeated_id_keeps_the_largest_counts(tmp_path):
    """Old builds wrote a streaming placeholder in early lines; later lines of the same
    message.id carry the final counts. Either order gives the final counts, once."""
    early = {"input_tokens": 5, "output_tokens": 1}
    final = {"input_tokens": 5, "output_tokens": 400}
    for order in ((early, final), (final, early)):
        path = write_lines(
            tmp_path / "t.jsonl", [assistant("m", text="a", usage=order[0]), assistant("m", tool=True, usage=order[1])]
        )
        t = transcript.read_usage(str(path))
        assert len(t.requests) == 1 and t.totals()["output"] == 400 and t.totals()["input"] == 5


def test_repeated_id_keeps_geo_speed_and_iterations_and_prices_them(tmp_path):
    """Each line of a response repeats its usage; the fields that change its price (inference_geo
    "us", speed "fast", iterations) survive the merge and reach the cost, once per message.id."""
    iterations = [
        {
            "type": "message",
            "input_tokens": 60_000,
            "output_tokens": 1,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
        },
        {
            "type": "message",
            "input_tokens": 60_000,
            "output_tokens": 1,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
        },
    ]
    early = {"input_tokens": 120_000, "output_tokens": 1, "inference_geo": "us", "speed": "standard"}
    final = dict(early, output_tokens=2, iterations=iterations)
    path = write_lines(
        tmp_path / "t.jsonl",
        [
            assistant("m", "claude-haiku-5-5", text="a", usage=early),
            assistant("m", "claude-haiku-5-5", tool=True, usage=final),
        ],
    )
    t = transcript.read_usage(str(path))
    assert len(t.requests) == 1
    usage = t.requests[0]["usage"]
    assert usage["inference_geo"] == "us" and "speed" not in usage and len(usage["iterations"]) == 2
    assert set(t.totals()) == set(pricing.USAGE_KEYS)
    ref = json.loads((FIXTURES / "claude-code-2.1.328-prices.json").read_text())["pricing_tiers"]["haiku_55"]
    # two iterations of 60,000 prompt tokens: standard rates (the request's 120,000 would be long)
    expected = (120_000 * ref["input"] + 2 * ref["output"]) / 1e6 * 1.1
    prices = pricing.load_prices(override_path=str(tmp_path / "none.json"))
    assert prices.cost("claude-haiku-5-5", usage) == pytest.approx(expected, abs=1e-12)


def test_an_unknown_speed_follows_the_lines_claude_code_version(tmp_path):
    lines = []
    for msg_id, version in (("m1", "2.1.328"), ("m2", "2.1.332")):
        line = assistant(msg_id, text="a", usage={"input_tokens": 10, "output_tokens": 5, "speed": "priority"})
        line["version"] = version
        lines.append(line)
    t = transcript.read_usage(str(write_lines(tmp_path / "t.jsonl", lines)))
    assert ["speed" in r["usage"] for r in t.requests] == [False, True]


def test_synthetic_and_empty_requests_are_left_out(tmp_path):
    path = write_lines(
        tmp_path / "t.jsonl",
        [
            assistant("a", usage={"input_tokens": 0, "output_tokens": 0}),
            assistant("b", model="<synthetic>", usage={"input_tokens": 5}),
            assistant("c", usage={"input_tokens": 7}, text="API Error", stop="end_turn"),
        ],
    )
    t = transcript.read_usage(str(path), expect_last_text="API Error")
    assert [r["id"] for r in t.requests] == ["c"] and t.complete


def test_lines_without_message_id_fall_back_to_request_id(tmp_path):
    a = assistant(None, text="x")
    a["requestId"] = "req_1"
    b = assistant(None, tool=True)
    b["requestId"] = "req_1"
    c = assistant(None, tool=True)
    path = write_lines(tmp_path / "t.jsonl", [a, b, c])
    t = transcript.read_usage(str(path))
    assert len(t.requests) == 2
    assert t.requests[0]["id"] == "requestId:req_1"


def test_multi_block_final_message_matches(tmp_path):
    path = write_lines(
        tmp_path / "t.jsonl",
        [
            assistant("m", text="part one"),
            assistant("m", text="part two", stop="end_turn"),
        ],
    )
    for expected in ("part one\npart two", "part onepart two", "part two", "part one\n\npart two"):
        assert transcript.read_usage(str(path), expect_last_text=expected).complete, expected
    assert not transcript.read_usage(str(path), expect_last_text="part one").complete


def test_roots_restrict_where_transcripts_are_read(tmp_path):
    inside = tmp_path / "claude" / "projects" / "p" / "s" / "subagents"
    inside.mkdir(parents=True)
    path = write_lines(inside / "agent-a.jsonl", [assistant("m")])
    outside = write_lines(tmp_path / "elsewhere.jsonl", [assistant("m")])
    roots = [str(tmp_path / "claude")]
    assert transcript.read_usage(str(path), roots=roots).error is None
    assert transcript.read_usage(str(outside), roots=roots).error == transcript.NOT_ALLOWED
    escape = inside / "agent-b.jsonl"
    escape.symlink_to(outside)
    assert transcript.read_usage(str(escape), roots=roots).error == transcript.NOT_ALLOWED
    dotdot = str(inside / ".." / ".." / ".." / ".." / ".." / "elsewhere.jsonl")
    assert transcript.read_usage(dotdot, roots=roots).error == transcript.NOT_ALLOWED
    assert not transcript.allowed(str(inside / "x.txt"), roots)
    assert not transcript.allowed("/dev/zero", ["/"])


def test_growing_file_read_while_written(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"")
    stop = threading.Event()
    line = json.dumps(assistant("m", text="x" * 5000)).encode() + b"\n"

    def writer():
        with open(path, "ab", buffering=0) as f:
            for _ in range(2000):
                if stop.is_set():
                    break
                for i in range(0, len(line), 333):
                    f.write(line[i : i + 333])

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(50):
            t = transcript.read_usage(str(path))
            assert t.error is None
            assert len(t.requests) <= 1
            assert t.torn_lines <= 1
    finally:
        stop.set()
        thread.join()


# --------------------------------------------------------------------------- helpers


def test_text_digest():
    assert transcript.text_digest("abc") == transcript.text_digest("  abc\n")
    assert transcript.text_digest("abc") != transcript.text_digest("abd")
    assert transcript.text_digest("") is None and transcript.text_digest(None) is None
    assert transcript.text_digest(5) is None
    big = "é" * 100000
    assert transcript.text_digest(big) == transcript.text_digest(big)
    assert transcript.text_digest(big) != transcript.text_digest(big + "x")
    assert transcript.text_digest("\ud800 lone surrogate")


@pytest.mark.parametrize(
    "text, epoch",
    [
        ("1970-01-01T00:00:00Z", 0.0),
        ("2026-11-25T20:12:50.593Z", 1795637570.593),
        ("2000-02-29T12:00:00.5+01:00", 951822000.5),
        ("2024-12-31T23:59:59.999Z", 1735689599.999),
    ],
)
def test_parse_iso(text, epoch):
    assert transcript.parse_iso(text) == pytest.approx(epoch, abs=1e-6)


@pytest.mark.parametrize(
    "bad", [None, 5, "", "yesterday", "2026-13-01T00:00:00Z", "2026-11-25T20:12:50.593Q", "2026-11-25"]
)
def test_parse_iso_garbage(bad):
    assert transcript.parse_iso(bad) is None


def test_format_iso():
    assert transcript.format_iso(1795637570.593) == "2026-11-25T20:12:50.593Z"
    assert transcript.format_iso(0) == "1970-01-01T00:00:00.000Z"
    assert transcript.format_iso(1.9996) == "1970-01-01T00:00:02.000Z"


def test_cost_state_from_the_tail():
    state = transcript.read_cost_state(str(SESSION))
    assert state["totalCostUSD"] == 0.7826825000000001
    assert state["modelUsage"]["claude-opus-5-5"]["costUSD"] == 0.48782


def test_cost_state_last_one_wins_and_far_from_the_end(tmp_path):
    path = tmp_path / "s.jsonl"
    old = {"type": "cost-state", "totalCostUSD": 1.0}
    new = {"type": "cost-state", "totalCostUSD": 2.0}
    pad = {"type": "user", "message": {"content": "y" * 1000}}
    write_lines(path, [old, new] + [pad] * 2000, tail=b'{"type": "cost-st')  # ~2 MB after it, torn end
    assert transcript.read_cost_state(str(path))["totalCostUSD"] == 2.0
    write_lines(path, [pad] * 10)
    assert transcript.read_cost_state(str(path)) is None
    assert transcript.read_cost_state(str(tmp_path / "none.jsonl")) is None
    assert transcript.read_cost_state("/dev/zero") is None


def test_cost_state_reads_only_the_tail(tmp_path, monkeypatch):
    path = tmp_path / "s.jsonl"
    pad = {"type": "user", "message": {"content": "y" * 1000}}
    write_lines(path, [pad] * 20000 + [{"type": "cost-state", "totalCostUSD": 3.0}])
    size = path.stat().st_size
    read = []
    real_pread = os.pread

    def spy(fd, n, offset):
        read.append(n)
        return real_pread(fd, n, offset)

    monkeypatch.setattr(os, "pread", spy)
    assert transcript.read_cost_state(str(path))["totalCostUSD"] == 3.0
    assert sum(read) <= 256 * 1024 < size


def test_find_tool_use_model():
    assert transcript.find_tool_use_model(str(SESSION), "toolu_1") == "claude-opus-5-5"
    assert transcript.find_tool_use_model(str(SESSION), "toolu_3") == "claude-opus-5-5"
    assert transcript.find_tool_use_model(str(SESSION), "toolu_404") is None
    assert transcript.find_tool_use_model(str(SESSION), None) is None
    assert transcript.find_tool_use_model(str(SESSION), 'x"y') is None


def test_read_version():
    assert transcript.read_version(str(SESSION)) == "2.1.328"


def test_meta(tmp_path):
    path = tmp_path / "agent-a1.jsonl"
    (tmp_path / "agent-a1.meta.json").write_text((PAYLOADS / "subagent.meta.json").read_text())
    meta = transcript.read_meta(str(path))
    assert meta["toolUseId"] == "toolu_3" and meta["finished"] is True
    assert transcript.read_meta(str(tmp_path / "agent-zz.jsonl")) is None
    (tmp_path / "agent-bad.meta.json").write_text("{garbage")
    assert transcript.read_meta(str(tmp_path / "agent-bad.jsonl")) is None
    assert transcript.read_meta(None) is None


def test_subagent_transcript_path():
    got = transcript.subagent_transcript_path("/c/projects/p/sess-1.jsonl", "sess-1", "a123")
    assert got == "/c/projects/p/sess-1/subagents/agent-a123.jsonl"
    assert transcript.subagent_transcript_path("/c/p/s.jsonl", "../x", "a1") is None
    assert transcript.subagent_transcript_path("/c/p/s.jsonl", "s", "a/1") is None
    assert transcript.subagent_transcript_path(None, "s", "a1") is None
