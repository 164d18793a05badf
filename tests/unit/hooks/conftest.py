"""The hook tests' session: ``hooks``, a ``Hooks`` harness run from an empty cwd."""

import os

import pytest

from tests.support.hookproc import Hooks


@pytest.fixture
def hooks(tmp_path, monkeypatch):
    """A ``Hooks`` harness run from an empty cwd, which must stay empty: nothing is ever written
    relative to the cwd."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield Hooks(tmp_path)
    assert os.listdir(cwd) == []
