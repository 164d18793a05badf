"""Shared fixtures. Every test runs with its own HOME and Claude config dir: never the real ones."""

import os
from pathlib import Path

import pytest

_REAL_CLAUDE_DIR = Path(os.path.expanduser("~")) / ".claude"


def _fingerprint(path: Path):
    try:
        return sorted((p.name, p.stat().st_mtime_ns) for p in path.iterdir())
    except OSError:
        return None


_BEFORE = _fingerprint(_REAL_CLAUDE_DIR)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Point HOME, CLAUDE_CONFIG_DIR and the ledger at tmp_path; clear the variables we read."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home / ".claude"))
    monkeypatch.setenv("CCO_HOOKS_LEDGER", str(tmp_path / "ledger" / "ledger.jsonl"))
    for name in ("CCO_HOOKS_CONFIG", "CLAUDE_PROJECT_DIR", "CLAUDE_CODE_SUBAGENT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return home


def pytest_sessionfinish(session, exitstatus):
    # The real ~/.claude must look exactly as it did before the run.
    after = _fingerprint(_REAL_CLAUDE_DIR)
    if after != _BEFORE:
        session.exitstatus = 1
        print(f"\nERROR: the test run changed the real {_REAL_CLAUDE_DIR}: {_BEFORE} -> {after}")
