"""A hostile config layer in a repository, met by real hook processes (the command ``install``
registers): a "billion laughs", nesting 50,000 deep (YAML and JSON), a 3.9 MB flat YAML, and a flat
YAML just under the size limit.

Each first hook answers — the spawn unchanged (no routing answer), the user told once which layer is
broken and why — within PreToolUse's registered timeout (the run is killed past it; no timing is
asserted) and with its peak memory (``ru_maxrss`` from ``wait4``) under 100 MB. The next hook does
not parse again: it loads neither the YAML parser nor the config builder, and leaves the stored
verdict as it was.
"""

from __future__ import annotations

import os

import pytest

from cco_hooks import claude_code, snapshot
from tests.support.hookproc import Hooks, answer, check_state

PRE_TOOL_USE_TIMEOUT_S = next(
    timeout for event, _arg, _matcher, timeout in claude_code.HOOK_EVENTS if event == "PreToolUse"
)
MEMORY_BOUND = 100 * 1024 * 1024
PARSER_MODULES = {"yaml", "pydantic", "cco_hooks.config.build", "cco_hooks.config.bounded"}


def billion_laughs() -> str:
    """~500 bytes: nine anchors, each nine aliases of the one before (9**9 strings expanded), in a
    rule, where a message quoting it would expand it."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 9)]
    return "version: 1\n" + "\n".join(lines) + "\nagents: {python-pro: *a8}\n"


LAYERS = {
    "billion laughs": ("cco-hooks.yaml", billion_laughs(), "more than 20,000 values"),
    "yaml 50,000 deep": ("cco-hooks.yaml", "agents: " + "[" * 50_000 + "]" * 50_000 + "\n", "64 levels deep"),
    "json 50,000 deep": ("cco-hooks.json", '{"agents": ' + "[" * 50_000 + "]" * 50_000 + "}", "64 levels deep"),
    "flat yaml of 3.9 MB": (
        "cco-hooks.yaml",
        "".join(f"key{i}: value {i}\n" for i in range(230_000)),
        "more than the 256 KiB a config layer may be",
    ),
}


def config_layer(h: Hooks, name: str, text: str):
    path = h.write_config(text, name=name)
    return path


def run_first_and_second(h: Hooks, tmp_path):
    """The first PreToolUse (builds the verdict) measured, then a second one with its modules
    recorded; returns ``(first answer, first peak bytes, second answer, second modules)``."""
    first, peak = h.run_measured("pre-tool-use", h.pre("toolu_1"), timeout=PRE_TOOL_USE_TIMEOUT_S)
    assert first.returncode == 0 and first.stderr == b"", first.stderr.decode(errors="replace")[-2000:]
    stored = snapshot.snapshot_path(str(h.project), h.env())
    before = os.stat(stored)
    dump = tmp_path / "modules.txt"
    second, _ = h.run("pre-tool-use", h.pre("toolu_2"), CCO_HOOKS_DEBUG_MODULES=str(dump))
    assert second.returncode == 0 and second.stderr == b"", second.stderr.decode(errors="replace")[-2000:]
    after = os.stat(stored)
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    modules = {line.split()[0] for line in dump.read_text().splitlines()}
    return answer(first.stdout), peak, answer(second.stdout), modules


@pytest.mark.parametrize("case", list(LAYERS))
def test_a_hostile_layer_is_broken_fast_and_small_and_judged_once(tmp_path, case):
    """The spawn is left unchanged, the user told once which file broke which limit; the hook's
    peak memory stays under 100 MB; the next hook reads the stored verdict without parsing."""
    name, text, limit = LAYERS[case]
    h = Hooks(tmp_path)
    path = config_layer(h, name, text)
    first, peak, second, modules = run_first_and_second(h, tmp_path)
    assert set(first) == {"systemMessage"}  # no hookSpecificOutput: the spawn goes as Claude asked
    message = first["systemMessage"]
    assert message.startswith(f"cco-hooks: a config layer is broken, so spawns are left unchanged: error: {path}: ")
    assert limit in message and len(message) < 500
    print(f"peak {peak / 2**20:.1f} MiB")
    assert peak < MEMORY_BOUND, f"peak {peak / 2**20:.1f} MiB"
    assert second is None  # told once
    assert not modules & PARSER_MODULES, sorted(modules & PARSER_MODULES)
    check_state(h)


def test_a_flat_layer_just_under_the_size_limit_loads_small(tmp_path):
    """The largest layer the limits let through (unknown keys filling 256 KiB) is parsed, its
    problems capped, within the timeout and 100 MB; the spawn is routed as the layer says."""
    h = Hooks(tmp_path)
    head = "version: 1\nagents: {general-purpose: haiku}\n"
    lines, size = [], len(head)
    while size < 256 * 1024 - 40:
        lines.append(f"unknown-key-{len(lines)}: some value\n")
        size += len(lines[-1])
    h.write_config(head + "".join(lines))
    first, peak, second, modules = run_first_and_second(h, tmp_path)
    assert first["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    print(f"peak {peak / 2**20:.1f} MiB")
    assert peak < MEMORY_BOUND, f"peak {peak / 2**20:.1f} MiB"
    assert second["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    assert not modules & PARSER_MODULES
    snap = snapshot.load(str(h.project), h.env())
    assert len(lines) > 9000 and len(snap["problems"]) == 101 and snap["broken"] == []
    check_state(h)
