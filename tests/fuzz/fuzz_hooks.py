"""Fuzz the hook entry points (issue 5.2).

    python tests/fuzz/fuzz_hooks.py --runs 5000 [--seed 1] [--processes 20] [--keep DIR]

hypothesis-driven (atheris does not install from PyPI for this Python here, and the suite must not
need it): each input is a real 2.1.328 payload mutated — bytes flipped, inserted, deleted, the text
cut short, spliced with another payload, a field's value swapped for a value of another type or a
hostile path (``/dev/zero``, a FIFO, a directory, ``/etc/passwd``, a symlink out of the config dir)
— or plain random bytes / JSON. Each is fed to ``hook_main.main`` for a random event, in this
process, in a throwaway Claude config dir with a routing + budget config, transcripts and a live
ledger. Every run must: return 0; print nothing or one valid hook JSON object; log no internal
error; leave a ledger whose every line is a schema-valid record. ``--processes K`` also sends K of
the inputs through real hook processes (the command `install` registers), 10 s timeout each: do
use it — this process has ``json`` imported (hypothesis needs it), which hides a class of bugs a
hook process meets (e.g. the C scanner's errors need ``json.decoder`` loaded: found this way).

On a failure hypothesis shrinks the input and this prints it and exits 1.
``tests/unit/processes/test_hostile_input.py`` runs a short smoke run of this file. The session on
disk, the payloads and both ways of running a hook come from ``tests.support.hookproc.Hooks``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EVENTS = ("pre-tool-use", "post-tool-use", "subagent-stop", "stop", "session-end")
CONFIG = """version: 1
agents: {general-purpose: haiku, python-pro: sonnet, "test-*": opus}
limits: {ceiling: opus}
budget: {daily_usd: 0.6, session_usd: 5, per_agent: {python-pro: 0.2}, on_exceed: downgrade, warn_at: 0.5}
"""
ODD_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    2**64,
    1.5e308,
    -0.0,
    "",
    "x",
    "\ud800",
    "\x00",
    [],
    {},
    [None],
    {"": {}},
    "/dev/zero",
    "/dev/urandom",
    "/etc/passwd",
    "/",
    ".",
    "..",
    "../../../etc/passwd",
    "a" * 5000,
]


def setup(root: Path):
    """Environment + a Claude config dir with transcripts (good and hostile) + seed payloads."""
    home = root / "home"
    os.environ.update(
        HOME=str(home),
        CLAUDE_CONFIG_DIR=str(home / ".claude"),
        CCO_HOOKS_LEDGER=str(root / "ledger" / "ledger.jsonl"),
        CCO_HOOKS_STOP_WAIT_S="0",
    )
    for key in ("CCO_HOOKS_CONFIG", "CLAUDE_PROJECT_DIR", "CLAUDE_CODE_SUBAGENT_MODEL"):
        os.environ.pop(key, None)
    (home / ".claude").mkdir(parents=True, exist_ok=True)
    from tests.support.hookproc import Hooks

    hooks = Hooks(root)
    hooks.write_config(CONFIG)
    hooks.write_user_config(CONFIG)  # the user's budget: a repository's alone cannot choose downgrade
    for agent_id in ("a1", "a2", "a3"):
        hooks.write_transcript(agent_id)
    os.mkfifo(hooks.subagents / "agent-afifo.jsonl")
    (hooks.subagents / "agent-adir.jsonl").mkdir()
    os.symlink("/dev/zero", hooks.subagents / "agent-azero.jsonl")
    (hooks.subagents / "agent-ajunk.jsonl").write_bytes(os.urandom(64 * 1024))
    seeds = [
        hooks.pre("toolu_1"),
        hooks.pre("toolu_2", "python-pro", "opus", background=True),
        hooks.post_completed("toolu_1", "a1"),
        hooks.post_async("toolu_2", "a2"),
        hooks.stop("a1"),
        hooks.stop("a2", "python-pro"),
        hooks.stop("azero"),
        hooks.stop("afifo"),
        hooks.session_event("Stop"),
        hooks.session_event("SessionEnd"),
    ]
    paths = [str(hooks.subagents / f"agent-{a}.jsonl") for a in ("a1", "afifo", "adir", "azero", "ajunk")]
    return hooks, seeds, ODD_VALUES + paths


def _swap_field(obj, path, value):
    """A copy of ``obj`` with the field at ``path`` (keys / indexes) replaced by ``value``."""
    if not path:
        return value
    if isinstance(obj, dict) and obj:
        keys = sorted(obj)
        key = keys[path[0] % len(keys)]
        out = dict(obj)
        out[key] = _swap_field(obj[key], path[1:], value)
        return out
    if isinstance(obj, list) and obj:
        i = path[0] % len(obj)
        out = list(obj)
        out[i] = _swap_field(obj[i], path[1:], value)
        return out
    return value


@st.composite
def fuzz_inputs(draw, seeds, odd_values):
    kind = draw(st.sampled_from(["bytes", "json", "field", "field", "field", "mutate", "mutate", "splice"]))
    if kind == "bytes":
        return draw(st.binary(max_size=4096))
    if kind == "json":
        leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30))
        value = draw(
            st.recursive(
                leaf,
                lambda inner: st.one_of(
                    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
                ),
                max_leaves=30,
            )
        )
        return json.dumps(value).encode()
    seed = draw(st.sampled_from(seeds))
    if kind == "field":
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            path = draw(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=3))
            seed = _swap_field(seed, path, draw(st.sampled_from(odd_values)))
        return json.dumps(seed).encode("utf-8", "surrogatepass")
    raw = bytearray(json.dumps(seed).encode())
    if kind == "splice":
        other = json.dumps(draw(st.sampled_from(seeds))).encode()
        cut = draw(st.integers(min_value=0, max_value=len(raw)))
        return bytes(raw[:cut]) + other[draw(st.integers(min_value=0, max_value=len(other))) :]
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = draw(st.integers(min_value=0, max_value=max(0, len(raw) - 1)))
        if op == "flip" and raw:
            raw[at] = draw(st.integers(min_value=0, max_value=255))
        elif op == "insert":
            raw[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete" and raw:
            del raw[at : at + draw(st.integers(min_value=1, max_value=16))]
        elif op == "truncate":
            del raw[at:]
    return bytes(raw)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=1000, help="inputs to try (hypothesis max_examples)")
    ap.add_argument("--seed", type=int, default=None, help="derandomize with this seed")
    ap.add_argument("--processes", type=int, default=0, help="also run this many inputs as real hook processes")
    ap.add_argument("--keep", help="work in this directory (kept) instead of a temporary one")
    args = ap.parse_args(argv)

    root = Path(args.keep or tempfile.mkdtemp(prefix="cco-fuzz-"))
    root.mkdir(parents=True, exist_ok=True)
    hooks, seeds, odd_values = setup(root)
    os.environ["CLAUDE_PROJECT_DIR"] = str(hooks.project)
    from tests.support.hookproc import check_answer, check_state

    count = {"in_process": 0, "processes": 0}
    slowest = [0.0, ""]

    every = max(1, args.runs // args.processes) if args.processes else 0

    @settings(
        max_examples=args.runs, deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=True
    )
    @given(event=st.sampled_from(EVENTS), data=fuzz_inputs(seeds, odd_values))
    def target(event, data):
        count["in_process"] += 1
        code, out = hooks.run_main(event, data)
        assert code == 0
        check_answer(event, out)
        if every and count["in_process"] % every == 0 and count["processes"] < args.processes:
            count["processes"] += 1
            proc, seconds = hooks.run(event, data, timeout=10.0)
            if seconds > slowest[0]:
                slowest[:] = [seconds, event]
            assert proc.returncode == 0 and proc.stderr == b"", proc.stderr[-2000:]
            check_answer(event, proc.stdout)
        check_state(hooks)

    if args.seed is not None:
        target = seed(args.seed)(target)
    start = time.monotonic()
    try:
        target()
    except Exception as exc:  # noqa: BLE001 - report the (shrunk) failing input
        print(f"fuzz_hooks: FAILED after {count['in_process']} inputs: {type(exc).__name__}: {exc}")
        print(f"work dir kept: {root}")
        return 1
    elapsed = time.monotonic() - start
    records, _ = hooks.read_ledger()
    print(
        f"fuzz_hooks: {count['in_process']} inputs ({args.runs} requested) in {elapsed:.1f} s, "
        f"{count['processes']} also as hook processes (slowest {slowest[0]:.2f} s), "
        f"{len(records)} ledger records, no failure"
    )
    if not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
