"""Hostile input never breaks Claude Code (issue 5.2).

For every hook, whatever arrives on stdin — empty, not JSON, truncated, not UTF-8, an array, a
20 MB object, nested 100,000 deep, every field of the wrong type, tools that are not spawns
(``TaskCreate``), transcript paths to ``/dev/zero``, a FIFO, a directory or files that are not
transcripts — the hook exits 0, prints nothing or one valid hook JSON object, no traceback, logs no
internal error, and leaves a ledger every reader accepts (each record valid against
``config/ledger.schema.json``, no skipped line, the report reads it).

Two layers: a curated list run through the real hook processes (the command `install` registers;
timed — the issue asks for 2 s, the test allows 10 s of wall time on a shared machine and prints the
slowest), and hypothesis properties against ``hook_main.main`` in this process (fast, many cases).
The standalone fuzz target is ``tests/fuzz/fuzz_hooks.py``; a short run of it is the last test here.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cco_hooks import paths
from tests.support.hookproc import EVENTS, FINAL_TEXT, PROMPT_MARKER, Hooks, check_answer, check_state
from tests.support.locations import REPO

TIMEOUT_S = 10.0  # the bound is 2 s; this only keeps a hung hook from hanging the suite
CONFIG = """version: 1
agents: {general-purpose: haiku, python-pro: sonnet, "test-*": opus}
limits: {ceiling: opus}
budget: {daily_usd: 1000, session_usd: 500, per_agent: {python-pro: 100}, warn_at: 0.9}
"""
TIMES: dict = {}


# --------------------------------------------------------------------------- the curated list


@pytest.fixture
def hooks(tmp_path):
    h = Hooks(tmp_path)
    h.write_config(CONFIG)
    h.write_transcript("agood")
    special = tmp_path / "special"
    special.mkdir()
    os.mkfifo(special / "fifo.jsonl")
    os.mkfifo(h.subagents / "agent-afifo.jsonl")
    (h.subagents / "agent-adir.jsonl").mkdir()
    os.symlink("/dev/zero", h.subagents / "agent-azero.jsonl")
    os.symlink("/etc/passwd", h.subagents / "agent-apasswd.jsonl")
    (h.subagents / "agent-abinary.jsonl").write_bytes(bytes(range(256)) * 4096)  # 1 MiB, not text
    (h.subagents / "agent-anotjson.jsonl").write_text("hello\n" * 1000)
    (h.subagents / "agent-alies.jsonl").write_text(
        json.dumps(
            {
                "type": "assistant",
                "message": {
                    "id": 7,
                    "model": ["x"],
                    "usage": {"input_tokens": "many", "output_tokens": -5, "cache_read_input_tokens": 1e300},
                    "content": "x",
                },
            }
        )
        + "\n"
        + "[1,2]\n{\n"
    )
    h.special = special
    return h


def _spawn_fields(h: Hooks) -> dict:
    return {
        "pre": h.pre("toolu_h1"),
        "post": h.post_completed("toolu_h1", "agood"),
        "stop": h.stop("agood"),
        "async": h.post_async("toolu_h2", "agood"),
        "session": h.session_event("Stop"),
    }


def _wrong_types(payload: dict, value) -> dict:
    """Every field (and every field of every object field) set to ``value``."""
    out = {}
    for key, field in payload.items():
        out[key] = _wrong_types(field, value) if isinstance(field, dict) else value
    return out


def curated(h: Hooks) -> dict:
    """name → stdin bytes, or → a function of the event giving the payload."""
    good = _spawn_fields(h)
    pre_raw = json.dumps(good["pre"]).encode()
    big = copy.deepcopy(good["pre"])
    big["tool_input"]["prompt"] = "x" * (20 * 1024 * 1024)
    many_keys = {f"k{i}": i for i in range(800_000)}
    many_keys.update(good["pre"])
    deep_ok = good["pre"]["tool_input"]
    nested = {"leaf": 1}
    for _ in range(400):
        nested = {"n": nested}
    deep_ok = dict(deep_ok, extra=nested)
    cases = {
        "empty": b"",
        "whitespace": b" \n\t ",
        "not json": b"this is not json",
        "truncated": pre_raw[: len(pre_raw) // 2],
        "not utf-8": pre_raw.replace(b'"Agent"', b'"Ag\xffent"'),
        "latin-1 bytes": b"\xff\xfe\x00\x00" * 100,
        "utf-16": json.dumps(good["pre"]).encode("utf-16"),
        "bom": b"\xef\xbb\xbf" + pre_raw,
        "nul bytes": b"\x00" * 1000,
        "array": b"[" + pre_raw + b"]",
        "string": b'"Agent"',
        "number": b"1e999",
        "null": b"null",
        "two objects": pre_raw + b"\n" + pre_raw,
        "20 MB prompt": json.dumps(big).encode(),
        "20 MB of keys": json.dumps(many_keys).encode(),
        "nested 100k arrays": b"[" * 100_000 + b"]" * 100_000,
        "nested 100k objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        "nested 400 in tool_input": json.dumps(dict(good["pre"], tool_input=deep_ok)).encode(),
        "NaN and Infinity": pre_raw.replace(b'"toolu_h1"', b"NaN").replace(b"false", b"Infinity"),
        "huge integer": pre_raw.replace(b'"toolu_h1"', b"1" + b"0" * 5000),
        "lone surrogates": pre_raw.replace(b'"general-purpose"', b'"\\ud800\\udfff\\ud800"'),
        "duplicate keys": pre_raw[:-1] + b', "tool_name": "TaskCreate", "tool_name": "Agent"}',
        "all null": {k: _wrong_types(v, None) for k, v in good.items()},
        "all numbers": {k: _wrong_types(v, -1.5e308) for k, v in good.items()},
        "all lists": {k: _wrong_types(v, [[], {}]) for k, v in good.items()},
        "all bools": {k: _wrong_types(v, True) for k, v in good.items()},
        "all empty strings": {k: _wrong_types(v, "") for k, v in good.items()},
        "objects are strings": {
            k: {f: (json.dumps(x) if isinstance(x, (dict, list)) else x) for f, x in v.items()} for k, v in good.items()
        },
        "TaskCreate": {k: dict(v, tool_name="TaskCreate") for k, v in good.items()},
        "TaskUpdate, TaskOutput": {
            k: dict(v, tool_name=t)
            for k, v, t in zip(good, good.values(), ["TaskUpdate", "TaskOutput"] * 3, strict=False)
        },
        "agent (lower case)": {k: dict(v, tool_name="agent") for k, v in good.items()},
        "path traversal ids": {
            k: dict(v, tool_use_id="../../../etc/x", agent_id="../../x", session_id="../..") for k, v in good.items()
        },
        "huge ids": {
            k: dict(v, tool_use_id="t" * 100_000, agent_id="a" * 100_000, session_id="s" * 100_000)
            for k, v in good.items()
        },
        "cwd nowhere": {k: dict(v, cwd="/nonexistent/\x00/x") for k, v in good.items()},
        "cwd root": {k: dict(v, cwd="/") for k, v in good.items()},
    }
    for name, path in (
        ("/dev/zero", "/dev/zero"),
        ("/dev/urandom", "/dev/urandom"),
        ("/dev/stdin", "/dev/stdin"),
        ("/proc/self/mem", "/proc/self/mem"),
        ("a FIFO outside", str(h.special / "fifo.jsonl")),
        ("a FIFO inside", str(h.subagents / "agent-afifo.jsonl")),
        ("a directory", str(h.subagents / "agent-adir.jsonl")),
        ("a symlink to /dev/zero", str(h.subagents / "agent-azero.jsonl")),
        ("a symlink to /etc/passwd", str(h.subagents / "agent-apasswd.jsonl")),
        ("/etc/passwd", "/etc/passwd"),
        ("binary junk", str(h.subagents / "agent-abinary.jsonl")),
        ("text, not JSON", str(h.subagents / "agent-anotjson.jsonl")),
        ("JSON of the wrong shape", str(h.subagents / "agent-alies.jsonl")),
        ("relative", "agent-agood.jsonl"),
        ("NUL in path", str(h.transcript_path("agood")) + "\x00x"),
    ):
        agent_id = (
            os.path.basename(path)[len("agent-") : -len(".jsonl")]
            if os.path.basename(path).startswith("agent-")
            else "agood"
        )
        cases[f"transcript: {name}"] = {
            k: dict(
                v, transcript_path=path, agent_transcript_path=path, **({"agent_id": agent_id} if k == "stop" else {})
            )
            for k, v in good.items()
        }
    return cases


def stdin_for(case, event: str) -> bytes:
    if isinstance(case, bytes):
        return case
    key = {"pre-tool-use": "pre", "post-tool-use": "post", "subagent-stop": "stop"}.get(event, "session")
    return json.dumps(case.get(key) or next(iter(case.values()))).encode()


@pytest.fixture(scope="module", autouse=True)
def report_times(request):
    yield
    if TIMES:
        worst = sorted(TIMES.items(), key=lambda item: -item[1])[:3]
        text = ", ".join(f"{name}: {seconds:.2f} s" for name, seconds in worst)
        # shown in the run's output: the issue asks for 2 s, the asserts allow 10 s on a shared machine
        reporter = request.config.pluginmanager.getplugin("terminalreporter")
        capture = request.config.pluginmanager.getplugin("capturemanager")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(f"\nhostile input, slowest of {len(TIMES)} hook processes: {text}")


def test_curated_hostile_inputs_in_real_hook_processes(hooks):
    """Every curated input, through every hook process: exit 0, nothing or one valid answer, no
    traceback, no internal error; the ledger stays valid. Each run is timed (the issue: 2 s)."""
    cases = curated(hooks)
    # a spawn already recorded, so hostile stops/posts meet a ledger, tombstones and totals
    hooks.run_main("pre-tool-use", hooks.pre("toolu_seed"))
    for name, case in cases.items():
        for event in EVENTS:
            data = stdin_for(case, event)
            proc, seconds = hooks.run(event, data, timeout=TIMEOUT_S)
            TIMES[f"{event} <- {name}"] = seconds
            where = f"{event} <- {name}"
            assert proc.returncode == 0, (where, proc.stderr[-2000:])
            assert b"Traceback" not in proc.stderr and proc.stderr == b"", (where, proc.stderr[-2000:])
            check_answer(event, proc.stdout)
    check_state(hooks)
    assert max(TIMES.values()) < TIMEOUT_S


@pytest.mark.parametrize(
    "cwd", ["/a\x00b", "", "/", "relative/dir", "/nonexistent", "/etc/passwd", "/dev/zero", "/" + "d" * 5000, 7, None]
)
def test_a_hostile_cwd_without_claude_project_dir(hooks, cwd):
    """Claude Code sets CLAUDE_PROJECT_DIR for hooks; without it the project is the payload's cwd,
    whatever that holds: still exit 0, a valid answer, no internal error."""
    for event in EVENTS:
        payload = dict(hooks.pre("toolu_c") if event == "pre-tool-use" else hooks.stop("agood"), cwd=cwd)
        proc, seconds = hooks.run(event, payload, CLAUDE_PROJECT_DIR=None)
        TIMES[f"{event} <- cwd {str(cwd)[:20]!r}, no CLAUDE_PROJECT_DIR"] = seconds
        assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode()
        check_answer(event, proc.stdout)
    check_state(hooks)


def test_the_20_mb_prompt_is_still_routed(hooks):
    """A huge (valid) spawn is not refused for its size: it is rewritten, all 20 MB handed back."""
    payload = hooks.pre("toolu_big", "python-pro", "opus")
    payload["tool_input"]["prompt"] = "y" * (20 * 1024 * 1024)
    proc, seconds = hooks.run("pre-tool-use", payload, timeout=TIMEOUT_S)
    TIMES["pre-tool-use <- 20 MB prompt, routed"] = seconds
    answer = json.loads(proc.stdout)
    assert answer["hookSpecificOutput"]["updatedInput"]["model"] == "sonnet"
    assert len(answer["hookSpecificOutput"]["updatedInput"]["prompt"]) == 20 * 1024 * 1024


def test_transcripts_that_are_not_transcripts_are_recorded_unpriced(hooks):
    """A spawn whose transcript is /dev/zero (via a symlink in place) is still recorded — unpriced,
    with the reason — and nothing hangs or reads forever."""
    hooks.run_main("pre-tool-use", hooks.pre("toolu_z"))
    proc, _ = hooks.run("subagent-stop", hooks.stop("azero"))
    assert proc.returncode == 0
    hooks.run_main("post-tool-use", hooks.post_completed("toolu_z", "azero"))
    records, _ = hooks.read_ledger()
    record = [r for r in records if r.get("tool_use_id") == "toolu_z"]
    assert len(record) == 1 and record[0]["status"] == "unpriced"
    assert record[0]["unpriced_reason"].startswith("transcript_")
    check_state(hooks)


def test_no_prompt_or_answer_text_is_stored_and_every_file_is_private(hooks):
    """Security (issue 5.5): after routed, denied, priced, warned and failed-config spawns, no file we
    wrote holds the prompt or the subagent's answer, and every file and directory is 0600 / 0700."""
    hooks.write_config(CONFIG.replace("warn_at: 0.9", "warn_at: 0.0001"))  # the budget warns, too
    for n, agent_type in enumerate(("python-pro", "general-purpose", "test-x")):
        tool_use_id, agent_id = f"toolu_p{n}", f"ap{n}"
        hooks.write_transcript(agent_id)
        for event, payload in (
            ("pre-tool-use", hooks.pre(tool_use_id, agent_type, "opus")),
            ("subagent-stop", hooks.stop(agent_id, agent_type)),
            ("post-tool-use", hooks.post_completed(tool_use_id, agent_id, subagent_type=agent_type)),
        ):
            proc, _ = hooks.run(event, payload)
            assert proc.returncode == 0 and proc.stderr == b""
    (hooks.project / ".claude" / "cco-hooks.local.yaml").write_text("mode: [broken\n")
    assert hooks.run("pre-tool-use", hooks.pre("toolu_b"))[0].returncode == 0
    assert [r["status"] for r in hooks.read_ledger()[0]] == ["completed"] * 3
    check_state(hooks)
    for root in (Path(paths.state_dir()), Path(hooks.ledger).parent):
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert PROMPT_MARKER.encode() not in data and FINAL_TEXT.encode() not in data, path


# --------------------------------------------------------------------------- properties (in process)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=10), inner, max_size=5)),
    max_leaves=25,
)
tool_names = st.sampled_from(["Agent", "Task", "TaskCreate", "TaskUpdate", "TaskOutput", "agent", "Bash", "", "Agent "])
paths_st = st.one_of(
    st.sampled_from(
        [
            "/dev/zero",
            "/dev/null",
            "/etc/passwd",
            "/",
            "",
            ".",
            "relative.jsonl",
            "/nonexistent/agent-x.jsonl",
            "/dev/zero.jsonl",
        ]
    ),
    st.text(max_size=30),
)
ids = st.one_of(st.sampled_from(["toolu_1", "a9290afd8a1e9bebf", "..", "../x", "", "x" * 200]), st.text(max_size=20))
models = st.one_of(
    st.sampled_from(["haiku", "sonnet", "opus", "fable", "inherit", "claude-opus-5-5", "gpt-4", ""]), json_scalars
)


def maybe(strategy):
    return st.one_of(strategy, json_values)


tool_inputs = st.fixed_dictionaries(
    {},
    optional={
        "description": maybe(st.text(max_size=50)),
        "prompt": maybe(st.text(max_size=200)),
        "subagent_type": maybe(
            st.sampled_from(["general-purpose", "python-pro", "Python Pro", "fork", "test-x", "plugin:python-pro", ""])
        ),
        "model": models,
        "effort": maybe(st.sampled_from(["low", "high", "max", "ultra"])),
        "run_in_background": maybe(st.booleans()),
        "isolation": json_values,
    },
)
tool_responses = st.fixed_dictionaries(
    {},
    optional={
        "status": maybe(st.sampled_from(["completed", "async_launched", "failed"])),
        "agentId": maybe(ids),
        "resolvedModel": models,
        "content": json_values,
        "totalDurationMs": json_scalars,
        "usage": json_values,
        "isAsync": json_values,
        "agentType": json_values,
    },
)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "session_id": maybe(ids),
        "transcript_path": maybe(paths_st),
        "cwd": maybe(paths_st),
        "hook_event_name": maybe(st.sampled_from(["PreToolUse", "PostToolUse", "SubagentStop", "Stop"])),
        "tool_name": maybe(tool_names),
        "tool_input": maybe(tool_inputs),
        "tool_use_id": maybe(ids),
        "tool_response": maybe(tool_responses),
        "agent_id": maybe(ids),
        "agent_type": json_values,
        "agent_transcript_path": maybe(paths_st),
        "last_assistant_message": json_values,
        "background_tasks": json_values,
        "stop_hook_active": json_values,
    },
)

PROPERTY = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture
def quick(hooks, monkeypatch):
    """In-process runs: SubagentStop does not wait for transcripts that will never complete."""
    monkeypatch.setenv("CCO_HOOKS_STOP_WAIT_S", "0")
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(hooks.project))
    return hooks


def in_process(hooks: Hooks, event: str, data: bytes) -> None:
    code, out = hooks.run_main(event, data)
    assert code == 0
    check_answer(event, out)


@PROPERTY
@given(event=st.sampled_from(EVENTS), data=st.binary(max_size=3000))
def test_any_bytes(quick, event, data):
    in_process(quick, event, data)


@PROPERTY
@given(event=st.sampled_from(EVENTS), value=json_values)
def test_any_json_value(quick, event, value):
    in_process(quick, event, json.dumps(value).encode())


@PROPERTY
@given(event=st.sampled_from(EVENTS), payload=payloads)
def test_payload_shaped_with_any_field_types(quick, event, payload):
    in_process(quick, event, json.dumps(payload).encode())
    check_state(quick)


@settings(PROPERTY, max_examples=40)
@given(event=st.sampled_from(EVENTS), payload=payloads)
def test_payload_shaped_without_claude_project_dir(quick, monkeypatch, event, payload):
    """The same, with the project taken from the payload's cwd (any value) instead of the env."""
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)
    in_process(quick, event, json.dumps(payload).encode())
    check_state(quick)


@PROPERTY
@given(
    event=st.sampled_from(EVENTS),
    seed=st.sampled_from(["pre", "post", "async", "stop", "session"]),
    cut=st.integers(min_value=0, max_value=4000),
    flip=st.integers(min_value=0, max_value=4000),
    byte=st.integers(min_value=0, max_value=255),
)
def test_mutated_real_payloads(quick, event, seed, cut, flip, byte):
    """The real payloads, truncated and with one byte changed anywhere."""
    raw = bytearray(json.dumps(_spawn_fields(quick)[seed]).encode())
    if raw:
        raw[flip % len(raw)] = byte
    in_process(quick, event, bytes(raw[: max(1, len(raw) - cut % len(raw))]))


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"\n", b'"assistant"', b"x", b" ", b"\r", b'{"a":1}', b"\n\n", b'"assist', b"\xff"]),
        max_size=40,
    ).map(b"".join)
)
def test_the_transcript_readers_line_scan_is_the_naive_split(data):
    """transcript._candidate_lines (no copy of the whole file into lines, no count of its lines: a
    hook's latency) yields exactly what filtering ``data.split(b"\\n")`` by offset did, for any bytes."""
    from cco_hooks import transcript

    lines, offset = [], 0
    for line in data.split(b"\n"):
        lines.append((offset, line))
        offset += len(line) + 1
    _, tail = lines.pop()
    tail_start = data.rfind(b"\n") + 1 if tail.strip() else -1
    if tail.strip():
        lines.append((tail_start, tail))
    expected = [(at, line) for at, line in lines if at == 0 or at == tail_start or b'"assistant"' in line]
    assert list(transcript._candidate_lines(data, tail_start)) == expected


def test_fuzz_target_smoke_run():
    """The standalone fuzz target runs (a short run; `python tests/fuzz/fuzz_hooks.py --runs N`)."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "tests" / "fuzz" / "fuzz_hooks.py"), "--runs", "60", "--processes", "8"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(REPO),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "60 inputs" in proc.stdout
