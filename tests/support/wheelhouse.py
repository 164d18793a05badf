"""A local wheelhouse made from the packages installed in this Python: pip installs from it with no
network (``PIP_NO_INDEX=1 PIP_FIND_LINKS=<dir>``), as a machine without PyPI would from its own.

Each wheel is the installed distribution's files (its ``RECORD``) zipped again, with a new RECORD of
their hashes; bytecode caches and files outside site-packages (console scripts) are left out.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata
import io
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LEFT_OUT = ("INSTALLER", "REQUESTED", "direct_url.json", "RECORD")


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def repack(name: str, directory: Path) -> Path:
    """``directory/<name>-<version>-<tag>.whl`` from the installed distribution ``name``."""
    dist = importlib.metadata.distribution(name)
    wheel_meta = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel_meta.splitlines() if line.startswith("Tag:")]
    tag = tags[0] if tags else "py3-none-any"
    files = [f for f in dist.files or () if not str(f).startswith("..") and "__pycache__" not in str(f)]
    dist_info = next(str(f).split("/")[0] for f in files if str(f).split("/")[0].endswith(".dist-info"))
    wheel_name = canonicalize_name(dist.metadata["Name"]).replace("-", "_")
    target = directory / f"{wheel_name}-{dist.version}-{tag}.whl"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as whl:
        for entry in files:
            if str(entry).split("/")[-1] in LEFT_OUT and str(entry).startswith(dist_info):
                continue
            data = Path(dist.locate_file(entry)).read_bytes()
            whl.writestr(str(entry), data)
            writer.writerow([str(entry), _record_hash(data), len(data)])
        writer.writerow([f"{dist_info}/RECORD", "", ""])
        whl.writestr(f"{dist_info}/RECORD", record.getvalue())
    return target


def closure(requirements: list[str]) -> list[str]:
    """The installed distributions ``requirements`` need, with what they need in turn (no extras)."""
    seen: dict[str, None] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen[name] = None
        todo.extend(Requirement(r) for r in importlib.metadata.distribution(name).requires or ())
    return list(seen)


def build(requirements: list[str], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in closure(requirements):
        repack(name, directory)
    return directory


def bare_python(directory: Path) -> Path:
    """A venv made ``--without-pip`` and without system site packages: its ``bin/python3`` imports
    nothing third-party, as a stock python3 with no packages. Returns its ``bin`` directory."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(directory)], check=True, timeout=120)
    python = directory / "bin" / "python3"
    probe = subprocess.run([str(python), "-c", "import pydantic"], capture_output=True, timeout=60)
    assert probe.returncode != 0, f"{python} must not import pydantic"
    return directory / "bin"


def offline_pip_env(wheels: Path) -> dict[str, str]:
    """pip, installing only from ``wheels`` (no index, no pip config of the machine's)."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "PIP_CONFIG_FILE": "/dev/null"}
