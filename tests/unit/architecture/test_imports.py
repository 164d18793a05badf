"""The package's import graph, read from the source: no cycles, and a hook never reaches the CLI side.

Every import counts, including those inside functions: a cycle hidden in a function is still a
cycle for the reader, and still a trap when the function moves.
"""

import ast
import sys
from pathlib import Path

import pytest

from tests.support.locations import REPO

PACKAGE = REPO / "cco_hooks"
# The hook side (stdlib only, flat at the package top) may reach the CLI side only here, and only
# inside a function that runs when the compiled config is stale: pydantic and yaml stay off the
# hook's start-up.
HOT_TO_CLI_ALLOWED = {("cco_hooks.snapshot", "cco_hooks.config.build")}
# Top-level modules that are the CLI's own entry, not the hooks'.
NOT_HOT = {"cco_hooks.__main__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
DYNAMIC: list[str] = []  # imports by name at run time, which neither a reader nor this test can follow


def _resolve(name: str) -> str | None:
    """The module an imported dotted name lands in (``cco_hooks.files.write_private`` → ``cco_hooks.files``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _called(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def imports_of(module: str) -> list[tuple[str, int, bool]]:
    """``(imported cco_hooks module, line, at module level)`` for every import in ``module``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        elif isinstance(node, ast.Call) and _called(node) == "OnFirstUse":
            # hookio.OnFirstUse("ledger", globals()): a lazy import of cco_hooks.ledger
            names = [f"cco_hooks.{node.args[0].value}"]
        elif isinstance(node, ast.Call) and _called(node) in ("__import__", "import_module"):
            DYNAMIC.append(f"{path.name}:{node.lineno}")
        for name in names:
            target = _resolve(name) if name.startswith("cco_hooks") else None
            if target and target != module and not (target == "cco_hooks" and name != "cco_hooks"):
                found.append((target, node.lineno, id(node) in top_level))
    # ``from cco_hooks import x`` lists both cco_hooks.x and cco_hooks: keep the package only when
    # nothing more precise came from the same line
    precise_lines = {line for target, line, _ in found if target != "cco_hooks"}
    return sorted({f for f in found if not (f[0] == "cco_hooks" and f[1] in precise_lines)})


GRAPH = {module: imports_of(module) for module in MODULES}


def is_hot(module: str) -> bool:
    return module.count(".") == 1 and module not in NOT_HOT


def test_the_graph_is_read():
    """The reader finds the edges everyone knows are there (it would pass vacuously otherwise)."""
    assert any(target == "cco_hooks.fastjson" for target, _, _ in GRAPH["cco_hooks.files"])
    assert any(target == "cco_hooks.config.build" for target, _, _ in GRAPH["cco_hooks.snapshot"])
    assert ("cco_hooks.ledger", False) in {(target, top) for target, _, top in GRAPH["cco_hooks.accounting"]}


def test_no_imports_by_name_at_run_time():
    """A lazy import is an ``import`` inside a function or ``hookio.OnFirstUse("module", ...)``, both
    visible to readers and to this test; OnFirstUse's own ``__import__`` is one import by name, and
    ``cco_hooks.c_module``'s (a standard library C module, named by a literal at each call) the other."""
    assert sorted(where.split(":")[0] for where in DYNAMIC) == ["__init__.py", "hookio.py"], DYNAMIC
    calls = [
        node
        for path in MODULES.values()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and _called(node) == "c_module"
    ]
    assert {call.args[0].value for call in calls} == {"_json", "fcntl"}


def test_no_import_cycles():
    """No module reaches itself through imports, at module level or inside functions."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target, line, _ in GRAPH[module]:
            if state.get(target) == 1:
                cycle = stack[stack.index(target) :] + [target]
                pytest.fail(f"import cycle: {' -> '.join(cycle)} (last edge at {MODULES[module].name}:{line})")
            if state.get(target) is None:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


def test_hook_modules_import_only_the_stdlib_and_each_other():
    """The flat top of the package is what a hook runs: stdlib and other hook modules only."""
    stdlib = sys.stdlib_module_names
    problems = []
    for module, path in MODULES.items():
        if not is_hot(module):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            for root in roots:
                if root != "cco_hooks" and root not in stdlib and root != "__future__":
                    problems.append(f"{path.name}:{node.lineno} imports {root}, which is not in the stdlib")
        for target, line, _ in GRAPH[module]:
            if not is_hot(target) and target != "cco_hooks" and (module, target) not in HOT_TO_CLI_ALLOWED:
                problems.append(f"{path.name}:{line} imports {target}, which is on the CLI side")
    assert problems == []


def test_allowed_hot_to_cli_imports_are_lazy():
    """The one way from the hook side to the CLI side is an import inside a function."""
    for module, target in HOT_TO_CLI_ALLOWED:
        edges = [edge for edge in GRAPH[module] if edge[0] == target]
        assert edges, f"{module} no longer imports {target}: drop it from HOT_TO_CLI_ALLOWED"
        assert all(not at_top for _, _, at_top in edges), edges
