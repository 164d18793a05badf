"""The hooks' hot path imports only the cheap standard library (issue 5; docs/design.md).

Two proofs: importing every hook module in a bare `python -S`, and — the one that counts — the real
hook processes, run with the command `cco-hooks install` registers, on real payloads for every event,
reporting the modules they had loaded when they exited (``CCO_HOOKS_DEBUG_MODULES``, written by the
shim just before it exits). The snapshot rebuild after a config change is the one run allowed to
load pydantic and yaml; a test shows the dump sees them there, so an empty finding means something.
"""

import subprocess
import sys

import pytest

import cco_hooks
from tests.support.hookproc import Hooks
from tests.support.locations import REPO

HEAVY = {
    "pydantic",
    "jsonschema",
    "yaml",
    "click",
    "re",
    "json",
    "enum",
    "typing",
    "dataclasses",
    "datetime",
    "pathlib",
    "hashlib",
    "fnmatch",
    "logging",
    "traceback",
    "orjson",
    "site",
}
# The hook side is the flat top of the package (docs/design.md, "Layout"): every module there.
HOT_MODULES = sorted(
    path.stem for path in (REPO / "cco_hooks").glob("*.py") if path.stem not in ("__init__", "__main__", "_shim")
)
CONFIG = """version: 1
agents: {python-pro: haiku, "test-*": sonnet}
limits: {ceiling: opus}
budget: {daily_usd: 1000, session_usd: 100, per_agent: {python-pro: 50}, on_exceed: deny, warn_at: 0.8}
"""


def imported_by(code):
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=str(REPO), check=True
    )
    return set(result.stdout.split())


def test_hot_modules_import_no_heavy_module():
    """Importing every hook module pulls in none of pydantic, yaml, click, jsonschema, re, json..."""
    code = (
        "import sys; sys.path.insert(0, '.'); "
        + "; ".join(f"import cco_hooks.{m}" for m in HOT_MODULES)
        + "; print(' '.join(sys.modules))"
    )
    leaked = imported_by(code) & HEAVY
    assert not leaked, f"hot path imports {sorted(leaked)}"


class Recorder:
    def __init__(self, tmp_path):
        self.hooks = Hooks(tmp_path)
        self.hooks.write_config(CONFIG)
        (self.hooks.project / ".claude" / "agents").mkdir()
        (self.hooks.project / ".claude" / "agents" / "python-pro.md").write_text(
            "---\nname: python-pro\ndescription: d\nmodel: haiku\n---\nYou are python-pro.\n"
        )
        self.dump = tmp_path / "modules.txt"

    def modules(self, event, payload):
        """The modules a real hook process had loaded at exit (it must succeed quietly)."""
        return set(self.run(event, payload))

    def run(self, event, payload):
        """``{module: preloaded}`` of a real hook process at exit (preloaded: by load_hook_modules)."""
        self.dump.unlink(missing_ok=True)
        proc, _ = self.hooks.run(event, payload, CCO_HOOKS_DEBUG_MODULES=str(self.dump))
        assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode()
        lines = self.dump.read_text().splitlines()
        return {line.split()[0]: line.endswith(" preloaded") for line in lines}


@pytest.fixture
def recorder(tmp_path):
    rec = Recorder(tmp_path)
    rec.modules("pre-tool-use", rec.hooks.pre("toolu_warm"))  # compiles the snapshot (pydantic, yaml)
    return rec


def test_real_hook_processes_load_no_heavy_module(recorder):
    """Each event's hook process, on real payloads (a spawn that is routed, budget-checked, stopped,
    priced and recorded, then Stop and SessionEnd), exits with none of the heavy modules loaded."""
    h = recorder.hooks
    runs = {}
    h.write_transcript("a1")
    runs["pre-tool-use (rewrite, budget)"] = recorder.modules("pre-tool-use", h.pre("toolu_1", "python-pro"))
    runs["subagent-stop (foreground)"] = recorder.modules("subagent-stop", h.stop("a1", "python-pro"))
    runs["post-tool-use (completed: prices)"] = recorder.modules(
        "post-tool-use", h.post_completed("toolu_1", "a1", "claude-haiku-5-5", "python-pro")
    )
    h.write_transcript("a2")
    recorder.modules("pre-tool-use", h.pre("toolu_2", background=True))
    runs["post-tool-use (async)"] = recorder.modules("post-tool-use", h.post_async("toolu_2", "a2"))
    runs["subagent-stop (background: prices)"] = recorder.modules("subagent-stop", h.stop("a2"))
    runs["stop"] = recorder.modules("stop", h.session_event("Stop"))
    runs["session-end"] = recorder.modules("session-end", h.session_event("SessionEnd"))
    runs["pre-tool-use (TaskCreate: not a spawn)"] = recorder.modules(
        "pre-tool-use", dict(h.pre("toolu_3"), tool_name="TaskCreate")
    )

    records, skipped = h.read_ledger()
    assert skipped == 0 and [r["status"] for r in records if r["kind"] == "spawn"] == ["completed", "completed"]
    assert "cco_hooks.budget" in runs["pre-tool-use (rewrite, budget)"]  # the budget path really ran
    assert "cco_hooks.pricing" in runs["post-tool-use (completed: prices)"]
    leaked = {name: sorted(mods & HEAVY) for name, mods in runs.items() if mods & HEAVY}
    assert not leaked, f"hook processes loaded heavy modules: {leaked}"


def test_pre_tool_use_loads_no_accounting_reader(recorder):
    """PreToolUse (the spawn waits for it) loads neither the transcript reader nor the price table:
    it only writes a pending part. Under a budget it holds the ledger lock while it decides, so the
    spawns of a parallel fan-out see each other's reservations; without one, not even the lock."""
    mods = recorder.modules("pre-tool-use", recorder.hooks.pre("toolu_9", "python-pro"))
    assert not mods & {"cco_hooks.transcript", "cco_hooks.pricing"}
    assert "cco_hooks.ledger" in mods
    recorder.hooks.write_config("version: 1\nagents: {python-pro: haiku}\n")
    recorder.modules("pre-tool-use", recorder.hooks.pre("toolu_warm2"))  # rebuilds the snapshot
    mods = recorder.modules("pre-tool-use", recorder.hooks.pre("toolu_10", "python-pro"))
    assert not mods & {"cco_hooks.transcript", "cco_hooks.pricing", "cco_hooks.ledger", "fcntl"}


def test_a_main_loop_tool_call_that_is_no_spawn_leaves_before_the_snapshot(recorder):
    """PreToolUse runs for every tool (the caps of running subagents): a main-loop Bash call leaves
    before the config snapshot is read or anything past the preloaded modules is imported."""
    recorder.hooks.write_config("version: 1\ncaps: {max_usd: 1}\n")
    recorder.modules("pre-tool-use", recorder.hooks.pre("toolu_warm2"))  # rebuilds the snapshot
    payload = dict(recorder.hooks.pre("toolu_11"), tool_name="Bash", tool_input={"command": "ls"})
    mods = recorder.run("pre-tool-use", payload)
    assert not {"cco_hooks.caps", "cco_hooks.live", "cco_hooks.budget", "cco_hooks.transcript"} & set(mods)
    assert all(preloaded for name, preloaded in mods.items() if name.startswith("cco_hooks."))


def test_the_shim_writes_and_then_uses_bytecode_despite_pythondontwritebytecode(tmp_path, monkeypatch):
    """PYTHONDONTWRITEBYTECODE=1 (set on these machines) would recompile every module on every hook
    run: the shim turns bytecode writing back on, so the first run writes __pycache__ and the next
    runs load from it (a copy of the package, so the repository's own cache is not involved)."""
    import shutil

    copy = tmp_path / "pkg"
    shutil.copytree(REPO / "cco_hooks", copy / "cco_hooks", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "config").mkdir()
    shutil.copy(REPO / "config" / "default.yaml", copy / "config" / "default.yaml")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    hooks = Hooks(tmp_path)
    argv = [sys.executable, "-S", str(copy / "cco_hooks" / "_shim.py"), "pre-tool-use"]
    payload = __import__("json").dumps(hooks.pre("toolu_1")).encode()
    for _ in range(2):
        subprocess.run(argv, input=payload, capture_output=True, env=hooks.env(), check=True)
    cached = {p.name.split(".")[0] for p in (copy / "cco_hooks" / "__pycache__").glob("*.pyc")}
    assert {"hook_main", "hookio", "snapshot", "policy", "accounting"} <= cached
    verbose = subprocess.run(
        [sys.executable, "-v", *argv[1:]], input=payload, capture_output=True, env=hooks.env(), check=True
    ).stderr.decode()
    loaded = [
        line for line in verbose.splitlines() if line.startswith("# code object from") and "/pkg/cco_hooks/" in line
    ]
    assert loaded and all(".pyc" in line for line in loaded), loaded


def test_the_dump_sees_a_snapshot_rebuild(recorder):
    """Honesty check: after a config edit the one hook run that recompiles the snapshot does load
    yaml and pydantic, and the dump shows it."""
    recorder.hooks.write_config(CONFIG + "mode: observe\n")
    mods = recorder.modules("pre-tool-use", recorder.hooks.pre("toolu_5"))
    assert {"yaml", "pydantic"} <= mods
    assert not recorder.modules("pre-tool-use", recorder.hooks.pre("toolu_6")) & HEAVY


def hook_modules_of(loaded):
    return {
        name.removeprefix("cco_hooks."): preloaded
        for name, preloaded in loaded.items()
        if name.count(".") == 1 and name.startswith("cco_hooks.")
    }


def test_each_event_preloads_what_it_runs_and_imports_nothing_the_slow_way(recorder):
    """Every module in cco_hooks.HOOK_MODULES[event] is preloaded from its bytecode, and so are the
    budget's (the check, the running totals, and the ledger lock it is made under), which
    PreToolUse loads only when a budget is configured, as here: no hook module is imported the
    usual way, through importlib's finders."""
    h = recorder.hooks
    h.write_transcript("a1")
    runs = {
        "pre-tool-use": recorder.run("pre-tool-use", h.pre("toolu_1", "python-pro")),
        "subagent-stop": recorder.run("subagent-stop", h.stop("a1", "python-pro")),
        "post-tool-use": recorder.run("post-tool-use", h.post_completed("toolu_1", "a1", "claude-haiku-5-5")),
        "stop": recorder.run("stop", h.session_event("Stop")),
        "session-end": recorder.run("session-end", h.session_event("SessionEnd")),
    }
    for event, loaded in runs.items():
        modules = hook_modules_of(loaded)
        listed = set(cco_hooks.HOOK_MODULES[event])
        if event == "pre-tool-use":
            listed |= set(cco_hooks.HOOK_MODULES["budget"])
        assert {name for name, preloaded in modules.items() if preloaded} == listed, event
        assert all(modules.values()), f"{event} imported {sorted(n for n, p in modules.items() if not p)}"
    assert {"budget", "totals"} <= set(hook_modules_of(runs["pre-tool-use"])), "the budget check ran"


def test_the_stages_of_preloaded_modules_come_after_what_they_import():
    """A stage (``budget``, ``caps``) is loaded after an event's modules: it may use them, and
    lists its own in dependency order."""
    import ast

    base = set(cco_hooks.HOOK_MODULES["pre-tool-use"])
    for stage in ("budget", "caps"):
        names = cco_hooks.HOOK_MODULES[stage]
        for position, name in enumerate(names):
            tree = ast.parse((REPO / "cco_hooks" / f"{name}.py").read_text(encoding="utf-8"))
            imported = {
                alias.name
                for node in tree.body
                if isinstance(node, ast.ImportFrom) and node.module == "cco_hooks"
                for alias in node.names
            } - {"c_module"}  # the package's own function, not a module
            assert imported <= base | set(names[:position]), f"{stage}: {name} imports {sorted(imported - base)}"


def test_hook_modules_are_listed_after_the_modules_they_import():
    """Each preload list is in dependency order, so no listed module is imported the slow way by
    another's top-level import before its turn comes."""
    import ast

    for event, names in cco_hooks.HOOK_MODULES.items():
        for position, name in enumerate(names):
            tree = ast.parse((REPO / "cco_hooks" / f"{name}.py").read_text(encoding="utf-8"))
            imported = set()
            for node in tree.body:
                if isinstance(node, ast.ImportFrom) and node.module == "cco_hooks":
                    imported |= {alias.name for alias in node.names}  # from cco_hooks import pending
                elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cco_hooks."):
                    imported.add(node.module.split(".")[1])  # from cco_hooks.pricing import USAGE_KEYS
            hot = imported & set(cco_hooks.HOOK_MODULES[event]) - {"__version__"}
            assert hot <= set(names[:position]), f"{event}: {name} imports {sorted(hot - set(names[:position]))}"
