"""PostToolUse settling a spawn whose subagent transcript has a million lines, as a whole process.

    python bench/bench_long_transcript.py [--lines 1000000] [--rounds 5] [--code DIR]

The transcript is ``tests/support/long_transcript.py``'s: most lines are not assistant lines, each
API response is written as two lines. Each round lays out a fresh spawn (its PreToolUse run in this
process, its transcript a hard link to the one written once) and times one real PostToolUse process
(``install.hook_command``: ``<python> -S <code>/cco_hooks/_shim.py post-tool-use``) from spawn to
exit, then checks that the spawn was priced with every request. ``--code``: the tree whose
``cco_hooks`` runs (default this one), e.g. an older commit unpacked with ``git archive``, to
compare before and after in the same run. Medians; nothing here is asserted by the tests.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--every", type=int, default=10, help="one response every N lines (two lines each)")
    ap.add_argument("--code", default=REPO, help="the tree whose cco_hooks runs")
    args = ap.parse_args(argv)
    root = tempfile.mkdtemp(prefix="cco-long-")
    try:
        return _run(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(args, root):
    os.environ.update(
        HOME=root,
        CLAUDE_CONFIG_DIR=os.path.join(root, "claude"),
        CCO_HOOKS_LEDGER=os.path.join(root, "ledger", "ledger.jsonl"),
        PYTHONPATH=os.path.abspath(args.code),
    )
    sys.path[:0] = [os.path.abspath(args.code), REPO]
    from pathlib import Path

    from tests.support import long_transcript
    from tests.support.hookproc import Hooks, hook_argv

    hooks = Hooks(Path(root))
    template = os.path.join(root, "template.jsonl")
    expected = long_transcript.write(template, args.lines, assistant_every=args.every)
    size = os.path.getsize(template)
    walls = []
    for n in range(args.rounds):
        agent, tool_use = f"a_long{n}", f"toolu_long{n}"
        path = hooks.transcript_path(agent)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.link(template, path)
        hooks.run_pre(tool_use)
        payload = hooks.post_completed(tool_use, agent, final_text=long_transcript.FINAL_TEXT)
        data = __import__("json").dumps(payload).encode()
        start = time.perf_counter()
        proc = subprocess.run(hook_argv("post-tool-use"), input=data, capture_output=True, env=hooks.env())
        walls.append(time.perf_counter() - start)
        records = [r for r in hooks.records() if r.get("tool_use_id") == tool_use]
        ok = proc.returncode == 0 and len(records) == 1 and records[0]["requests"] == expected["requests"]
        if not ok:
            print(f"round {n}: not priced right: {proc.stderr.decode()[-500:]} {records}", file=sys.stderr)
            return 1
    import cco_hooks

    print(f"code        {os.path.dirname(cco_hooks.__file__)}")
    print(f"transcript  {expected['lines']:,} lines, {size / 1e6:.0f} MB, {expected['requests']:,} API requests")
    print(
        f"post, fg    median {statistics.median(walls):.2f} s over {len(walls)} rounds "
        f"(min {min(walls):.2f}, max {max(walls):.2f}); load {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
