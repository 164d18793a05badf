"""README command 1, verbatim, on Debian's own Python (PEP 668: its pip refuses to install), then
the real Claude Code CLI (each tested release) in that project: the spawn is routed.

Command 1 installs with pipx (`.ci/run` installs Debian's `pipx` package), which builds a venv of
`/usr/bin/python3` and fetches the dependencies from the package index, as on a user's machine.
The checkout stands in for `~/cco-hooks` under a throwaway HOME; nothing touches the real home.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.fake_api import Scenario, Spawn
from tests.support.locations import REPO

pytestmark = pytest.mark.e2e

DEBIAN_PYTHON = "/usr/bin/python3"
SYSTEM_PATH = "/usr/bin:/bin"


def readme_command_1() -> str:
    """The line under ``# 1.`` in the README's first shell block."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    [marker] = [i for i, line in enumerate(block) if line.startswith("# 1.")]
    return block[marker + 1]


def user_env(home: Path) -> dict[str, str]:
    env = {"HOME": str(home), "PATH": SYSTEM_PATH, "LANG": "C.UTF-8"}
    for key in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_TRUSTED_HOST"):
        if key in os.environ:  # the machine's package index settings, as the user's pip would have them
            env[key] = os.environ[key]
    return env


def externally_managed_marker() -> Path:
    out = subprocess.run(
        [DEBIAN_PYTHON, "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip()) / "EXTERNALLY-MANAGED"


@pytest.fixture(scope="module")
def pipx_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(project, the user's ~/.local/bin) after README command 1 ran in the project."""
    assert Path(DEBIAN_PYTHON).exists(), "this test needs Debian's python3 (.ci/run runs on Debian 12)"
    assert externally_managed_marker().exists(), f"{DEBIAN_PYTHON} is not marked EXTERNALLY-MANAGED (PEP 668)"
    assert shutil.which("pipx", path=SYSTEM_PATH), "pipx is missing: .ci/run installs it (apt-get install pipx)"
    root = tmp_path_factory.mktemp("readme-install")
    home = root / "home"
    skip = shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "tests", "bench")
    shutil.copytree(REPO, home / "cco-hooks", ignore=skip)
    project = root / "proj"
    (project / ".claude" / "agents").mkdir(parents=True)
    (project / ".claude" / "cco-hooks.yaml").write_text("version: 1\nagents: {python-pro: haiku}\n")
    (project / ".claude" / "agents" / "python-pro.md").write_text(
        "---\nname: python-pro\ndescription: python-pro for the tests\n---\nYou are python-pro.\n"
    )
    env = user_env(home)
    # the stock situation the command is for: Debian's pip refuses to install into its Python
    refused = subprocess.run(
        [DEBIAN_PYTHON, "-m", "pip", "install", "--dry-run", "--no-deps", str(home / "cco-hooks")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode != 0 and "externally-managed-environment" in refused.stderr, refused.stderr
    done = subprocess.run(
        ["sh", "-c", readme_command_1()], cwd=project, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"README command 1 failed:\n{done.stdout}\n{done.stderr}"
    assert "Installed cco-hooks hooks in" in done.stdout
    bin_dir = home / ".local" / "bin"
    hook = bin_dir / "cco-hook"
    assert hook.exists(), sorted(p.name for p in bin_dir.iterdir())
    # the launcher pipx linked there runs its venv's python: pipx's venv of Debian's python, not the test's
    interpreter = hook.resolve().parent / "python"
    assert hook.is_symlink() and str(interpreter).startswith(str(home))
    assert interpreter.resolve().parent == Path(DEBIAN_PYTHON).parent
    return project, bin_dir


def test_readme_command_1_on_debian_python_gives_routing(run_e2e, fake_api, pipx_project):
    project, bin_dir = pipx_project
    fake_api.set_scenario(
        Scenario(spawns=[Spawn("SUB-0", subagent_type="python-pro", model="sonnet", run_in_background=False)])
    )
    result = run_e2e(project=project, env_extra={"PATH": f"{bin_dir}:{SYSTEM_PATH}"})
    assert result.returncode == 0, result.describe()
    assert result.model_for("SUB-0") == "claude-haiku-5-5"
    responses = [e for e in result.hook_events("PreToolUse") if e.get("subtype") == "hook_response"]
    assert len(responses) == 1 and responses[0]["exit_code"] == 0 and not responses[0]["stderr"], responses
