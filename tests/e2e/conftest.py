"""Fixtures for the end-to-end tests: the real Claude Code CLI against a fake Messages API.

- ``claude_bin`` (session, parametrized): the CLI binary of each release in
  ``claude_cli.versions_under_test()`` (ids ``cc2.1.328``, ``cc2.1.332``, ...), installed into
  ``<repo>/.cache/claude-code-<version>`` when missing, so every e2e test runs once per release;
  only the ``$CCO_HOOKS_TEST_CLAUDE`` binary when that is set.
- ``claude_version`` (session): what that binary's own ``--version`` says; compare with it, never with
  a literal version.
- ``fake_api`` (function): a started ``FakeAnthropicAPI``; give it a script with
  ``fake_api.set_scenario(Scenario(...))``. A test fails if the fake hit an internal error.
- ``e2e_home`` (function): a throwaway ``HOME`` (``.claude`` inside it is the config dir).
- ``e2e_project`` (function): an empty project directory (with ``.claude/``).
- ``run_e2e`` (function): ``run_e2e(prompt="SCENARIO-MAIN run", project=None, **kw)`` →
  ``RunResult``; ``run_claude`` bound to the fixtures above.

Every test under this directory is marked ``e2e``. The CLI never inherits this process's
environment (``claude_cli.claude_env`` builds it from scratch). This process itself gets ``HOME`` and
``CLAUDE_CONFIG_DIR`` pointed at ``e2e_home`` and loses ``CCO_HOOKS_*`` / ``CLAUDE_PROJECT_DIR`` /
``CLAUDE_CODE_SUBAGENT_MODEL``, so in-process calls (e.g. reading the default ledger) look where the
hooks inside the CLI wrote, and never at the real home directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.claude_cli import claude_version as version_of_binary
from tests.support.claude_cli import ensure_claude, run_claude, versions_under_test
from tests.support.fake_api import FakeAnthropicAPI

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", params=versions_under_test(), ids=lambda version: f"cc{version}")
def claude_bin(request: pytest.FixtureRequest) -> str:
    return ensure_claude(request.param)


@pytest.fixture(scope="session")
def claude_version(claude_bin: str) -> str:
    return version_of_binary(claude_bin)


@pytest.fixture
def e2e_home(tmp_path: Path) -> Path:
    home = tmp_path / "e2e-home"  # not "home": the root conftest's isolated_home owns that
    (home / ".claude").mkdir(parents=True)
    (home / "tmp").mkdir()
    return home


@pytest.fixture
def e2e_project(tmp_path: Path) -> Path:
    project = tmp_path / "e2e-project"
    (project / ".claude").mkdir(parents=True)
    return project


@pytest.fixture(autouse=True)
def _process_env_like_the_cli(e2e_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process sees the paths the CLI's hooks see (default ledger, snapshots), not the root
    conftest's: pass CCO_HOOKS_LEDGER etc. to both explicitly (``env_extra`` + monkeypatch)."""
    monkeypatch.setenv("HOME", str(e2e_home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(e2e_home / ".claude"))
    for key in list(os.environ):
        if (key.startswith("CCO_HOOKS_") and key != "CCO_HOOKS_TEST_CLAUDE") or key in (
            "CLAUDE_PROJECT_DIR",
            "CLAUDE_CODE_SUBAGENT_MODEL",
        ):
            monkeypatch.delenv(key)


@pytest.fixture
def fake_api():
    api = FakeAnthropicAPI().start()
    try:
        yield api
    finally:
        api.stop()
    assert not api.errors, f"the fake Messages API failed while answering: {api.errors}"


@pytest.fixture
def run_e2e(claude_bin: str, fake_api: FakeAnthropicAPI, e2e_home: Path, e2e_project: Path):
    def run(prompt: str = "SCENARIO-MAIN run", project: Path | None = None, **kwargs):
        kwargs.setdefault("claude_bin", claude_bin)
        return run_claude(project or e2e_project, prompt, fake_api=fake_api, home=e2e_home, **kwargs)

    return run
