"""The code's own text stays true wherever the repository goes: no issue numbers, no workspace paths."""

import re

from tests.support.locations import REPO

SOURCES = sorted((REPO / "cco_hooks").rglob("*.py")) + [REPO / "hooks" / "cco-hook"]
# "issue 5", "(issue 12)", "issues 3 and 4": tracker numbers mean nothing to a reader of a clone.
ISSUE_NUMBER = re.compile(r"\bissues? \d+", re.I)
# Paths that exist only in the workspace this was written in.
OUTSIDE_REPO = re.compile(r"\.\./shared|/work/|shared/reference")


def test_sources_are_read():
    assert len(SOURCES) > 20


def test_no_issue_numbers_or_paths_outside_the_repository():
    found = []
    for path in SOURCES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ISSUE_NUMBER.search(line) or OUTSIDE_REPO.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert found == []
