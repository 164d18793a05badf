"""A victim file for the tests of names others can plant: a file of the user's that a link at one of
our names points at, which must keep its bytes and its mode whatever the hooks do.

Stdlib only.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

VICTIM = b"the user's own ~/.bashrc\n"
VICTIM_MODE = 0o644


def make_victim(directory: Path) -> Path:
    path = Path(directory) / "victim"
    path.write_bytes(VICTIM)
    os.chmod(path, VICTIM_MODE)
    return path


def untouched(victim: Path) -> bool:
    """The victim keeps its bytes and its mode."""
    return victim.read_bytes() == VICTIM and stat.S_IMODE(os.stat(victim).st_mode) == VICTIM_MODE
