"""What Claude Code runs for each hook `cco-hooks install` registers: `python -S <this file> <event>`.

Run as a script, so sys.path[0] is this directory: the package is imported from its parent, which
then goes after the stdlib (a backport in site-packages must not shadow it). Stdlib only, and
parseable by old Pythons: a hook must never break Claude Code, so any failure to load the package
exits 0 (Claude Code proceeds unchanged) with one line on stderr, never a traceback.
"""

import sys

if sys.version_info < (3, 10):
    sys.stderr.write(
        "cco-hooks: needs Python >= 3.10 but %s is %d.%d; hook skipped "
        "(install cco-hooks into Python 3.10+ and run `cco-hooks install` again)\n"
        % (sys.executable, sys.version_info[0], sys.version_info[1])
    )
    raise SystemExit(0)
import gc
import posix  # not os: it costs ~2.4 ms, and nothing in a hook process needs it (cco_hooks/fastos.py)

gc.disable()  # no cycles worth collecting in a process this short; saves ~0.4 ms
# This file's directory, every link resolved: what Python put first on sys.path for a script. Worked
# out from __file__ instead (os then loaded) when that entry is not there: a safe path (-P,
# PYTHONSAFEPATH), or this file imported as a module (bin/cco-hook's fallback).
if sys.path and sys.path[0].rpartition("/")[2] == "cco_hooks" and not getattr(sys.flags, "safe_path", False):
    package_parent = sys.path[0].rpartition("/")[0] or "/"
else:
    import os

    package_parent = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    sys.path.insert(0, package_parent)
sys.path[0] = package_parent  # our own package, whatever else PYTHONPATH holds
sys.dont_write_bytecode = False  # PYTHONDONTWRITEBYTECODE would recompile us on every hook run
try:
    import cco_hooks

    # Its modules come from its own directory now; the parent goes after the stdlib: it may be a
    # site-packages holding a PyPI backport (enum34's `enum`, `pathlib`, `typing`) that must not
    # shadow the stdlib modules the hook imports.
    del sys.path[0]
    sys.path.append(package_parent)
    event = sys.argv[1] if len(sys.argv) > 1 else ""
    cco_hooks.load_hook_modules(event)  # faster than import: see there
    if event == "statusline":  # Claude Code's statusLine command, not a hook: its own entry point
        from cco_hooks.statusline import main
    else:
        from cco_hooks.hook_main import main
except Exception as exc:  # noqa: BLE001 - fail open
    sys.stderr.write(
        "cco-hooks: cannot load the hook from %s (%s: %s); hook skipped\n" % (package_parent, type(exc).__name__, exc)
    )
    raise SystemExit(0)
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # e.g. exit 2: passes through
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
except Exception as exc:  # noqa: BLE001 - fail open
    sys.stderr.write("cco-hooks: hook failed (%s: %s); call left unchanged\n" % (type(exc).__name__, exc))
    code = 0
if posix.environ.get(b"CCO_HOOKS_DEBUG_MODULES"):  # tests/unit/architecture/test_hot_path_imports.py
    # what did we load, and which modules came from load_hook_modules (they have no import spec)?
    try:
        fd = posix.open(
            posix.environ[b"CCO_HOOKS_DEBUG_MODULES"],
            posix.O_WRONLY | posix.O_CREAT | posix.O_TRUNC | getattr(posix, "O_NOFOLLOW", 0),
            0o600,
        )
        loaded = [n + (" preloaded" if getattr(m, "__spec__", 0) is None else "") for n, m in sys.modules.items()]
        posix.write(fd, "\n".join(sorted(loaded)).encode("ascii", "replace"))
        posix.close(fd)
    except OSError:
        pass
# A hook lives for milliseconds: skip the interpreter's teardown (~1.5 ms of freeing every module),
# once what we printed is out. Every file we write is written with os.write and closed already.
for stream in (sys.stdout, sys.stderr):
    try:
        stream.flush()
    except Exception:  # noqa: BLE001 - a closed pipe: nothing left to tell
        pass
posix._exit(code)
