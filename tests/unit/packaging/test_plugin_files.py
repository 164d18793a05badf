"""The Claude Code plugin at the repository root: .claude-plugin/plugin.json and hooks/hooks.json.

The last tests run the real Claude Code CLI (`claude plugin validate --strict`), each tested release;
it is installed into .cache/claude-code-<version> when missing, never skipped.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import cco_hooks
from cco_hooks.cli import install as inst
from tests.support.claude_cli import ensure_claude, versions_under_test
from tests.support.locations import REPO

MANIFEST = REPO / ".claude-plugin" / "plugin.json"
MARKETPLACE = REPO / ".claude-plugin" / "marketplace.json"
HOOKS_FILE = REPO / "hooks" / "hooks.json"
HOOK_SCRIPT = REPO / "hooks" / "cco-hook"
PLUGIN_COMMAND = re.compile(r'^python3 -S "\$\{CLAUDE_PLUGIN_ROOT\}/hooks/cco-hook" ([a-z-]+)$')


def load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------
# plugin.json


def test_manifest_metadata():
    manifest = load(MANIFEST)
    assert manifest["name"] == "cco-hooks"
    assert manifest["version"] == cco_hooks.__version__ == "0.1.0"
    assert re.search(r'^version = "0\.1\.0"$', (REPO / "pyproject.toml").read_text(), re.M)
    assert manifest["author"]["name"] == "cco-hooks developers"
    assert manifest["license"] == "MIT"
    assert manifest["description"]
    # hooks/hooks.json is discovered by Claude Code; naming it again would load it twice
    assert "hooks" not in manifest


def test_marketplace_lists_this_repository_as_the_plugin():
    """`claude plugin marketplace add <repo>` then `claude plugin install cco-hooks@cco-hooks`."""
    marketplace, manifest = load(MARKETPLACE), load(MANIFEST)
    assert marketplace["name"] == "cco-hooks" and marketplace["owner"]["name"] == manifest["author"]["name"]
    [entry] = marketplace["plugins"]
    assert entry["name"] == manifest["name"] and entry["source"] == "./"
    assert entry["version"] == manifest["version"] and entry["description"] == manifest["description"]


# --------------------------------------------------------------------------------------------
# hooks/hooks.json


def test_hooks_file_registers_the_four_events():
    data = load(HOOKS_FILE)
    assert data["description"]
    hooks = data["hooks"]
    assert list(hooks) == [spec.event for spec in inst.HOOKS]
    for spec in inst.HOOKS:
        [group] = hooks[spec.event]
        if spec.matcher is None:
            assert "matcher" not in group
        else:
            assert group["matcher"] == spec.matcher
        [hook] = group["hooks"]
        assert hook["type"] == "command" and hook["timeout"] == spec.timeout
        match = PLUGIN_COMMAND.match(hook["command"])
        assert match and match.group(1) == spec.arg, hook["command"]
        assert "${CLAUDE_PLUGIN_ROOT}" in hook["command"]
        # `cco-hooks doctor/uninstall` recognise the plugin's commands as ours
        assert inst.our_event_arg(hook["command"]) == spec.arg


def test_hook_script_is_executable_and_parses_on_old_pythons():
    assert os.access(HOOK_SCRIPT, os.X_OK)
    assert HOOK_SCRIPT.read_text().startswith("#!/usr/bin/env python3\n")
    ast.parse(HOOK_SCRIPT.read_text(), feature_version=(3, 4))


def plugin_env(tmp_path: Path, plugin_root: Path) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "CCO_HOOKS"))}
    run_env.update(
        HOME=str(home),
        CLAUDE_CONFIG_DIR=str(home / ".claude"),
        CLAUDE_PROJECT_DIR=str(tmp_path),
        CLAUDE_PLUGIN_ROOT=str(plugin_root),
    )
    return run_env


def test_plugin_commands_run_from_any_cwd(tmp_path):
    """Each hooks.json command, run by a shell from / with an empty stdin (as Claude Code would, with
    CLAUDE_PLUGIN_ROOT set), exits 0 without a traceback."""
    hook_main_exists = (REPO / "cco_hooks" / "hook_main.py").exists()
    for spec in inst.HOOKS:
        [group] = load(HOOKS_FILE)["hooks"][spec.event]
        proc = subprocess.run(
            ["sh", "-c", group["hooks"][0]["command"]],
            cwd="/",
            input=b"",
            capture_output=True,
            env=plugin_env(tmp_path, REPO),
            timeout=60,
        )
        stderr = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == 0 and "Traceback" not in stderr, (spec.event, stderr)
        if not hook_main_exists:
            assert stderr.count("\n") == 1 and stderr.startswith("cco-hooks plugin: cannot load the hook")


def fake_plugin(root: Path, hook_main: str | None) -> Path:
    """``root/hooks/cco-hook`` (a copy of the real one) beside a stand-in ``root/cco_hooks``."""
    (root / "hooks").mkdir(parents=True)
    shutil.copy(HOOK_SCRIPT, root / "hooks" / "cco-hook")
    (root / "cco_hooks").mkdir()
    shutil.copy(REPO / "cco_hooks" / "__init__.py", root / "cco_hooks" / "__init__.py")
    if hook_main is not None:
        (root / "cco_hooks" / "hook_main.py").write_text(hook_main)
    return root


def run_plugin_hook(tmp_path: Path, root: Path, *args: str):
    command = 'python3 -S "${CLAUDE_PLUGIN_ROOT}/hooks/cco-hook" ' + " ".join(shlex.quote(a) for a in args)
    run_env = plugin_env(tmp_path, root)
    run_env["PYTHONDONTWRITEBYTECODE"] = "1"
    run_env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + run_env.get("PATH", "")
    return subprocess.run(["sh", "-c", command], cwd="/", input=b"", capture_output=True, env=run_env, timeout=60)


def test_plugin_hook_puts_the_plugin_root_on_sys_path_after_the_stdlib(tmp_path):
    """The plugin root is on sys.path, after the stdlib: an ``enum.py`` in it does not shadow ``enum``."""
    hook_main = (
        "import enum, sys\ndef main(argv):\n    print(repr((argv, sys.path[-1], enum.__file__)))\n    return 0\n"
    )
    root = fake_plugin(tmp_path / "plugin", hook_main)
    (root / "enum.py").write_text("raise ImportError('a stray enum.py shadowed the stdlib')\n")
    proc = run_plugin_hook(tmp_path, root, "subagent-stop")
    assert proc.returncode == 0, proc.stderr
    argv, last, enum_file = ast.literal_eval(proc.stdout.decode())
    assert argv == ["subagent-stop"] and last == str(root) and not enum_file.startswith(str(root))
    assert list((root / "cco_hooks" / "__pycache__").glob("hook_main.*.pyc"))


@pytest.mark.parametrize("hook_main", [None, "raise ImportError('no pydantic')\n", "def main(argv):\n    1 / 0\n"])
def test_plugin_hook_fails_open_with_one_line(tmp_path, hook_main):
    root = fake_plugin(tmp_path / "plugin", hook_main)
    proc = run_plugin_hook(tmp_path, root, "pre-tool-use")
    stderr = proc.stderr.decode()
    assert proc.returncode == 0 and proc.stdout == b""
    assert "Traceback" not in stderr and stderr.count("\n") == 1 and stderr.startswith("cco-hooks plugin: ")


# --------------------------------------------------------------------------------------------
# the real CLI


def _cli_env_base(home: str | None = None) -> dict:
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "ANTHROPIC"))}
    run_env.update(
        DISABLE_AUTOUPDATER="1",
        DISABLE_TELEMETRY="1",
        DISABLE_ERROR_REPORTING="1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
    )
    if home:
        run_env["HOME"] = home
    return run_env


@pytest.mark.parametrize("version", versions_under_test(), ids=lambda version: f"cc{version}")
def test_claude_plugin_validate_strict_passes(tmp_path, version):
    """The repository (which the CLI then validates as the marketplace it holds), its plugin.json and
    its marketplace.json pass `--strict`, with no advice: the README has the install line the CLI
    looks for (`plugin install cco-hooks@…`)."""
    cli = ensure_claude(version)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    proc = subprocess.run(
        [str(cli), "plugin", "validate", "--strict", str(REPO)],
        capture_output=True,
        timeout=300,
        env=_cli_env_base(str(home)),
        cwd=tmp_path,
    )
    output = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode == 0, output
    assert "Validation passed" in output and "Advice" not in output

    for target, kind in ((REPO, "marketplace"), (MARKETPLACE, "marketplace"), (MANIFEST, "plugin")):
        proc = subprocess.run(
            [str(cli), "plugin", "validate", "--strict", "--json", str(target)],
            capture_output=True,
            timeout=300,
            env=_cli_env_base(str(home)),
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
        report = json.loads(proc.stdout)
        assert report["success"] is True and report["strict"] is True
        assert report["manifest"]["type"] == kind, target
        assert report["manifest"]["errors"] == [] and report["manifest"]["warnings"] == []
        assert report["advice"] == [], target
        if target == MANIFEST:
            provided = [(h["event"], h.get("matcher"), h["command"]) for h in report["provides"]["hooks"]]
            assert provided == [
                (spec.event, spec.matcher, f'python3 -S "${{CLAUDE_PLUGIN_ROOT}}/hooks/cco-hook" {spec.arg}')
                for spec in inst.HOOKS
            ]
