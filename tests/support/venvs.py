"""cco-hooks installed into throwaway environments, from this checkout, without the network.

``build_wheel(dest)`` builds this checkout's wheel once (``pip wheel --no-deps`` from a copy of the
sources: setuptools leaves build/ and *.egg-info where it builds). ``make_venv(root, wheel)`` makes a
venv of the test interpreter with ``--system-site-packages`` (its pydantic, yaml... serve the
package's dependencies) and installs the wheel into it with ``--no-deps --no-index``, as a user's
``pip install`` would lay it out: ``<venv>/bin/cco-hooks`` and ``<venv>/bin/cco-hook``, whose first
line the installer pointed at the venv's interpreter. Stdlib only.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.locations import REPO


def build_wheel(dest: Path) -> Path:
    source = dest / "src"
    # Only what the wheel is built from (no dot-directories: .git, .cache and any work directory
    # inside the checkout, which ``dest`` may be in)
    skip = shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "tests", "bench", "docs")
    shutil.copytree(REPO, source, ignore=skip)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dest), str(source)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [wheel] = dest.glob("cco_hooks-*.whl")
    return wheel


def make_venv(root: Path, wheel: Path) -> Path:
    """A venv at ``root`` with cco-hooks installed from ``wheel``; returns its ``bin`` directory."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(root)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    python = root / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return root / "bin"
