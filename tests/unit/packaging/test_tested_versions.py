"""The Claude Code releases the project is tested against are named once, in
``cco_hooks.claude_code``, and everything else that names them agrees: ``.ci/run`` installs exactly
those (into the prefixes the test harness looks in), the harness runs the e2e suite on exactly those,
and ``docs/claude-code-versions.md`` says so."""

from __future__ import annotations

import re

import pytest

from cco_hooks import claude_code
from tests.support import claude_cli
from tests.support.locations import REPO

CI_RUN = REPO / ".ci" / "run"
VERSIONS_DOC = REPO / "docs" / "claude-code-versions.md"


def ci_installs() -> dict[str, str]:
    """version -> the npm prefix ``.ci/run`` installs it into (relative to the repository)."""
    text = CI_RUN.read_text(encoding="utf-8")
    [loop] = re.findall(r"^for version in ([0-9. ]+); do$", text, flags=re.M)
    [prefix] = re.findall(r'^\s*npm install .*--prefix "([^"]+)" "@anthropic-ai/claude-code@\$version"$', text, re.M)
    return {version: prefix.replace("$version", version) for version in loop.split()}


def documented_versions() -> list[str]:
    [line] = [
        line for line in VERSIONS_DOC.read_text(encoding="utf-8").splitlines() if line.startswith("Tested against:")
    ]
    return re.findall(r"`(\d+\.\d+\.\d+)`", line)


def test_the_tested_releases_are_the_pinned_baseline_and_a_newer_one():
    assert claude_code.TESTED_VERSIONS == (claude_code.PINNED_VERSION, claude_code.NEWEST_TESTED_VERSION)
    assert claude_code.version_tuple(claude_code.PINNED_VERSION) < claude_code.version_tuple(
        claude_code.NEWEST_TESTED_VERSION
    )


def test_ci_installs_exactly_the_tested_releases_where_the_harness_looks():
    installs = ci_installs()
    assert tuple(installs) == claude_code.TESTED_VERSIONS
    for version, prefix in installs.items():
        assert REPO / prefix == claude_cli.install_prefix(version)
    # and then runs the README's test command, unchanged
    assert (
        CI_RUN.read_text(encoding="utf-8").rstrip().endswith("python3 -m pip install -e '.[test]' && python3 -m pytest")
    )


def test_the_harness_runs_the_e2e_suite_on_each_tested_release(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CCO_HOOKS_TEST_CLAUDE", raising=False)
    assert claude_cli.versions_under_test() == claude_code.TESTED_VERSIONS
    assert claude_cli.ensure_claude.__defaults__ == (claude_code.PINNED_VERSION,)


def test_the_versions_doc_names_the_tested_releases_and_has_a_row_for_each():
    assert tuple(documented_versions()) == claude_code.TESTED_VERSIONS
    rows = re.findall(r"^\| ([^|]+?) \|", VERSIONS_DOC.read_text(encoding="utf-8"), flags=re.M)
    for version in claude_code.TESTED_VERSIONS:
        assert version in rows, f"docs/claude-code-versions.md has no table row for {version}"


def test_the_versions_doc_is_linked_from_the_readme_and_the_design():
    for doc in (REPO / "README.md", REPO / "docs" / "design.md"):
        assert "claude-code-versions.md" in doc.read_text(encoding="utf-8"), doc


def test_the_readme_names_the_tested_releases():
    development = (REPO / "README.md").read_text(encoding="utf-8").split("## Development", 1)[1]
    for version in claude_code.TESTED_VERSIONS:
        assert version in development, f"README's Development section does not name Claude Code {version}"


def test_an_explicit_binary_replaces_the_tested_releases(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """``CCO_HOOKS_TEST_CLAUDE`` runs the suite once, against that binary's own version."""
    fake = tmp_path / "claude"
    fake.write_text("#!/bin/sh\necho '9.8.7 (Claude Code)'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CCO_HOOKS_TEST_CLAUDE", str(fake))
    assert claude_cli.versions_under_test() == ("9.8.7",)
    assert claude_cli.ensure_claude(claude_code.PINNED_VERSION) == str(fake)


def test_an_explicit_path_that_is_not_a_binary_is_an_error_that_names_it(monkeypatch, tmp_path):
    monkeypatch.setenv("CCO_HOOKS_TEST_CLAUDE", str(tmp_path / "missing"))
    with pytest.raises(claude_cli.ClaudeCliError, match="CCO_HOOKS_TEST_CLAUDE=.*missing.* not an executable"):
        claude_cli.versions_under_test()
