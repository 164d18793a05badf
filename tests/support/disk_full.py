"""A full disk, by fault injection: the calls that create, write and rename files fail with ``ENOSPC``
(or another errno) for the paths on the "full" disk, and only for those.

- in this process: ``with DiskFull(paths):`` patches ``os.open``, ``os.write`` and ``os.replace``
  (every file the hooks write goes through them: parts, tombstones, markers, the ledger, the totals);
- in a real hook process: ``process_env(tmp_path, paths)`` gives the environment that makes the
  registered hook command (``python -S <shim> <event>``) fail the same way. ``-S`` means no
  ``site``, so no ``sitecustomize`` and no ``.pth`` file ever runs; ``PYTHONPATH`` is still honoured,
  ahead of the standard library. So the fault comes in as a ``fcntl.py`` on ``PYTHONPATH``: the
  ledger imports ``fcntl`` before any settle, ours loads the real extension module in its place and
  installs the same patches (``DiskFull``'s source, copied beside it) on ``os`` and on the ``os``
  the hook modules use (``cco_hooks.fastos``). Nothing here needs root or a real small filesystem.

``modes``: ``"open"`` — creating a file fails (no inode, no directory block); ``"write"`` — a write
to a file opened on the full disk writes half its data, then fails (as a filling disk does);
``"replace"`` — the rename onto the final name fails. A path is on the full disk when it is one of
``paths`` or lies under one of them (one ending in ``*``: a path that begins so).
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
from pathlib import Path

DEFAULT_MODES = ("open", "write", "replace")


class DiskFull:
    def __init__(self, paths, modes=DEFAULT_MODES, error=errno.ENOSPC):
        self.paths = [os.path.abspath(str(p)) for p in paths]
        self.modes = frozenset(modes)
        self.error = error
        self.failures = 0  # how many calls were made to fail
        self._fds = {}  # fd → bytes written half-way already (None: not yet)
        self._saved = None

    def full(self, path) -> bool:
        try:
            path = os.path.abspath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        # "<prefix>*": every file whose path begins so (a temporary file's name of its own)
        return any(
            path.startswith(p[:-1]) if p.endswith("*") else path == p or path.startswith(p.rstrip(os.sep) + os.sep)
            for p in self.paths
        )

    def _fail(self, what):
        self.failures += 1
        raise OSError(self.error, os.strerror(self.error) + " (injected: " + what + ")")

    def __enter__(self):
        real_open, real_write, real_replace, real_close = os.open, os.write, os.replace, os.close
        # A hook process has no os: its modules call the same functions through cco_hooks.fastos
        light = getattr(sys.modules.get("cco_hooks.fastos"), "os", os)
        self._targets = [os] if light is os else [os, light]
        self._saved = real_open, real_write, real_replace, real_close

        def open_(path, flags, mode=0o777, *args, **kwargs):
            on_full = self.full(path)
            # creating a file takes an inode and a directory entry; opening one that exists does not
            if on_full and "open" in self.modes and flags & os.O_CREAT and not os.path.lexists(path):
                self._fail("open " + os.fsdecode(path))
            fd = real_open(path, flags, mode, *args, **kwargs)
            if on_full:
                self._fds[fd] = False
            return fd

        def write(fd, data):
            if fd in self._fds and "write" in self.modes:
                if not self._fds[fd] and len(data) > 1:
                    self._fds[fd] = True
                    return real_write(fd, bytes(memoryview(data)[: len(data) // 2]))
                self._fail("write")
            return real_write(fd, data)

        def replace(src, dst, *args, **kwargs):
            if "replace" in self.modes and self.full(dst):
                self._fail("rename onto " + os.fsdecode(dst))
            return real_replace(src, dst, *args, **kwargs)

        def close(fd):
            self._fds.pop(fd, None)
            return real_close(fd)

        for target in self._targets:
            target.open, target.write, target.replace, target.close = open_, write, replace, close
        return self

    def __exit__(self, *exc_info):
        for target in self._targets:
            target.open, target.write, target.replace, target.close = self._saved
        return False


FCNTL_SHIM = """# Injected by tests/support/disk_full.py: the real fcntl, and a full disk for the paths in
# CCO_TEST_DISK_FULL (os.pathsep-separated), the ways listed in CCO_TEST_DISK_FULL_MODES, failing
# with the errno CCO_TEST_DISK_FULL_ERRNO.
import importlib.machinery, importlib.util, os, sys

_here = os.path.dirname(os.path.abspath(__file__))
_path = [p for p in sys.path if os.path.abspath(p or ".") != _here]
_spec = importlib.machinery.PathFinder.find_spec("fcntl", _path)
_real = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_real)
globals().update({k: v for k, v in vars(_real).items() if not k.startswith("__")})

sys.path.insert(0, _here)
from disk_full_fault import DiskFull  # noqa: E402

sys.path.remove(_here)
DiskFull(
    os.environ["CCO_TEST_DISK_FULL"].split(os.pathsep),
    os.environ["CCO_TEST_DISK_FULL_MODES"].split(","),
    int(os.environ["CCO_TEST_DISK_FULL_ERRNO"]),
).__enter__()
"""


def process_env(tmp_path: Path, paths, modes=DEFAULT_MODES, error=errno.ENOSPC) -> dict:
    """The environment variables that make a hook process (the registered command) see a full disk
    at ``paths``: pass them to ``Hooks.run(event, payload, **process_env(...))``."""
    inject = tmp_path / "disk-full-inject"
    inject.mkdir(exist_ok=True)
    (inject / "fcntl.py").write_text(FCNTL_SHIM)
    shutil.copyfile(__file__, inject / "disk_full_fault.py")
    return {
        "PYTHONPATH": str(inject),
        "CCO_TEST_DISK_FULL": os.pathsep.join(str(p) for p in paths),
        "CCO_TEST_DISK_FULL_MODES": ",".join(modes),
        "CCO_TEST_DISK_FULL_ERRNO": str(error),
    }
