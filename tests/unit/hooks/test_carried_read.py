"""The read a SubagentStop carries to the PostToolUse that follows (``transcript.carry``): used only
while the transcript is exactly the file that was read, for the digest it was read for; else the
transcript is read again. Either way the record is the same."""

import glob
import json
import os

import pytest

from cco_hooks import completion, pending, transcript
from tests.support.hookproc import COST, only

AGENT = "a887642912c4f6be6"


def stop_part(hooks):
    [path] = glob.glob(os.path.join(pending.pending_dir(hooks.ledger), f"*{AGENT}*.stop.json"))
    return path


@pytest.fixture
def reads(monkeypatch):
    """The whole-file transcript reads made from here on, as a new process makes them (the
    per-process cache of the stop's own reads left behind)."""
    made = []
    real = transcript.read_usage

    def counting(path, *args, **kwargs):
        made.append(path)
        return real(path, *args, **kwargs)

    completion._read_cache.clear()
    monkeypatch.setattr(transcript, "read_usage", counting)
    return made


def foreground_until_stop(hooks):
    hooks.run_pre("toolu_1", model="opus")
    hooks.write_transcript(AGENT)
    hooks.run_stop(hooks.stop(AGENT))
    assert hooks.records() == []  # a foreground stop waits for its PostToolUse
    return json.loads(open(stop_part(hooks)).read())


def test_post_tool_use_prices_the_read_the_stop_carried_without_reading_the_transcript(hooks, reads):
    part = foreground_until_stop(hooks)
    carried = part["read"]
    assert carried["complete"] is True and len(carried["requests"]) == 2
    assert "text" not in json.dumps(carried)  # counts and models only: no message text is carried
    reads.clear()
    completion._read_cache.clear()  # PostToolUse is a process of its own
    hooks.run_post(hooks.post_completed("toolu_1", AGENT, model_in="opus"))
    assert reads == []
    record = only(hooks.records())
    assert record["cost_usd"] == pytest.approx(COST["claude-opus-5-5"], abs=1e-12)
    assert record["requests"] == 2 and record["transcript_complete"] is True


def same_record_read_again(hooks, reads):
    hooks.run_post(hooks.post_completed("toolu_1", AGENT, model_in="opus"))
    assert reads == [str(hooks.transcript_path(AGENT))], "the transcript is read again"
    return only(hooks.records())


def test_a_transcript_written_again_since_the_stop_is_read_again(hooks, reads):
    foreground_until_stop(hooks)
    completion._read_cache.clear()
    reads.clear()
    hooks.write_transcript(AGENT, model="claude-haiku-5-5")  # a new file: new inode, size or time
    record = same_record_read_again(hooks, reads)
    assert record["cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-12)


def test_a_same_size_rewrite_in_place_is_read_again(hooks, reads):
    foreground_until_stop(hooks)
    path = hooks.transcript_path(AGENT)
    data = path.read_bytes()
    st = os.stat(path)
    with open(path, "r+b") as f:  # same inode, same size: only the modification time tells
        f.write(data.replace(b"claude-opus-5-5", b"claude-haiku-5-5".ljust(15)[:15]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    completion._read_cache.clear()
    reads.clear()
    same_record_read_again(hooks, reads)


@pytest.mark.parametrize(
    "damage",
    [
        lambda read: read.update(format=99),
        lambda read: read.update(digest="something else"),
        lambda read: read.update(sig=[0, 0, 0, 0]),
        lambda read: read.update(requests=[["claude-opus-5-5", -1, 0, 0, 0, 0, 0]]),
        lambda read: read.update(requests=[["claude-opus-5-5", 1, 2]]),
        lambda read: read.update(requests=[[None, 1, 2, 3, 4, 5, 6]]),
        lambda read: read.update(requests=[["claude-opus-5-5", 1, 2, 3, 4, 5, 6, {"cost": 0}]]),
        lambda read: read.update(complete="yes"),
        lambda read: read.pop("last_ts"),
        lambda read: read.clear(),
    ],
)
def test_a_damaged_carried_read_is_not_used(hooks, reads, damage):
    part = foreground_until_stop(hooks)
    damage(part["read"])
    with open(stop_part(hooks), "w") as f:
        f.write(json.dumps(part))
    completion._read_cache.clear()
    reads.clear()
    record = same_record_read_again(hooks, reads)
    assert record["cost_usd"] == pytest.approx(COST["claude-opus-5-5"], abs=1e-12)


def test_the_carried_read_rebuilds_what_was_read(tmp_path):
    """Round trip: every field the record is made from, and the usages with their extras."""
    usage_us = {"input_tokens": 5, "output_tokens": 7, "inference_geo": "us", "speed": "fast"}
    lines = [
        {"type": "assistant", "timestamp": "2026-11-25T20:12:50.000Z", "version": "2.1.332",
         "message": {"id": "m1", "model": "claude-opus-5-5", "content": [], "usage": usage_us}},
        {"type": "assistant", "timestamp": "2026-11-25T20:13:00.500Z", "version": "2.1.332",
         "message": {"id": "m2", "model": "claude-haiku-5-5", "stop_reason": "end_turn",
                     "content": [{"type": "text", "text": "done"}], "usage": {"input_tokens": 1}}},
    ]  # fmt: skip
    path = tmp_path / "agent-x.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    digest = transcript.text_digest("done")
    read = transcript.read_usage(str(path), expect_digest=digest)
    carried = json.loads(json.dumps(transcript.carry(read, digest)))  # as it is stored
    again = transcript.from_carried(str(path), carried, digest, None)
    assert again is not None
    for name in transcript.TranscriptUsage.__slots__:
        if name != "requests":
            assert getattr(again, name) == getattr(read, name), name
    assert [(r["model"], r["usage"]) for r in again.requests] == [(r["model"], r["usage"]) for r in read.requests]
    assert again.requests[0]["usage"]["inference_geo"] == "us"
    assert transcript.from_carried(str(path), carried, "another digest", None) is None
    assert transcript.from_carried(str(path), carried, digest, [str(tmp_path / "elsewhere")]) is None
    with open(path, "a") as f:
        f.write("\n")
    assert transcript.from_carried(str(path), carried, digest, None) is None


def test_a_long_transcript_is_not_carried(tmp_path, monkeypatch):
    monkeypatch.setattr(transcript, "CARRY_MAX_REQUESTS", 2)
    path = tmp_path / "agent-x.jsonl"
    path.write_text(
        "".join(
            json.dumps({"type": "assistant", "message": {"id": f"m{i}", "model": "m", "usage": {"input_tokens": 1}}})
            + "\n"
            for i in range(3)
        )
    )
    read = transcript.read_usage(str(path))
    assert len(read.requests) == 3
    assert transcript.carry(read, None) is None
