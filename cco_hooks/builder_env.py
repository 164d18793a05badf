"""The config builder's packages for a ``python3`` that has none: a private environment, set up once.

The hooks themselves need only the standard library, but rebuilding the config snapshot needs
pydantic and PyYAML (``cco_hooks.config.build``). A plugin runs on whatever ``python3`` is on the
PATH Claude Code sees, often a bare one. So when that import fails, the hook does not fail with an
internal error: it starts, in the background and detached from the hook (never inside its timeout),
a setup that makes a venv under the plugin's data directory (``CLAUDE_PLUGIN_DATA``, which Claude
Code gives plugin hooks; else cco-hooks' state directory) and pip-installs ``REQUIREMENTS`` into
it; the spawn proceeds unchanged and the user is told once what is happening. Only the plugin's
own hooks do this (``runs_as_plugin``); elsewhere the message says what to install. Once the setup has
written ``ready.json``, later hooks add that environment's site-packages after their own path and
build the config as usual. A setup that fails says why, and what to do, once; it is tried again an
hour later, or at once with ``python3 <plugin>/hooks/cco-hook setup``.

Why a venv and pip rather than a stdlib YAML and validation path: the config's rules (every layer,
CCO formats, the limits on untrusted YAML) are defined once, by pydantic models and a bounded YAML
loader; a second implementation would drift. pip honours the user's own index settings
(``PIP_INDEX_URL``, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``), so a machine without PyPI can point it at
a wheelhouse.

Stdlib only; imported only when the builder's packages are missing (never on a normal hook run).
"""

import os
import sys

from cco_hooks import fastjson, files, paths

# What cco_hooks.config needs beyond the stdlib (pyproject.toml's dependencies say the same; a test
# keeps them equal).
REQUIREMENTS = ("pydantic>=2.5", "pyyaml>=6.0")
RETRY_AFTER_S = 3600  # a failed setup (no network, say) is tried again by a hook after this long
STALE_RUN_S = 1800  # a setup still "running" after this long was killed: start another
SETUP_TIMEOUT_S = 900


class BuilderUnavailable(ImportError):
    """The config builder cannot be imported yet; ``message`` says why and what happens now."""

    def __init__(self, message, topic):
        super().__init__(message)
        self.message = message
        self.topic = topic


def python_tag():
    return f"python{sys.version_info[0]}.{sys.version_info[1]}"


def env_root(env=None):
    """``<plugin data or state dir>/builder-python3.X``: one environment per Python version (a
    compiled pydantic-core fits one)."""
    env = os.environ if env is None else env
    base = env.get("CLAUDE_PLUGIN_DATA") or paths.state_dir(env)
    return os.path.join(base, "builder-" + python_tag())


def _status_path(root):
    return os.path.join(root, "status.json")


def _lock_path(root):
    return os.path.join(root, "setup.lock")


def _log_path(root):
    return os.path.join(root, "setup.log")


def read_status(root):
    return files.read_json_object(_status_path(root), 64 * 1024) or {}


def _write_status(root, **status):
    files.make_private_dirs(root)
    files.write_private(_status_path(root), fastjson.dumps(status))


def activate(env=None):
    """Put the private environment's site-packages on ``sys.path`` (after everything else) if its
    setup finished for this very Python; returns whether it did."""
    status = read_status(env_root(env))
    site_dir = status.get("site_packages")
    if status.get("state") != "ready" or status.get("python") != sys.version or not isinstance(site_dir, str):
        return False
    if not os.path.isdir(site_dir):
        return False
    if site_dir not in sys.path:
        sys.path.append(site_dir)
    return True


def unavailable(import_error, env=None, now=None):
    """The ``BuilderUnavailable`` for a hook whose builder import failed with ``import_error``,
    after starting the setup in the background when it is not running, done or recently failed."""
    import time

    env = os.environ if env is None else env
    now = time.time() if now is None else now
    if not runs_as_plugin(env):
        return _missing(import_error)
    root = env_root(env)
    status = read_status(root)
    state = status.get("state")
    since = status.get("since") if isinstance(status.get("since"), (int, float)) else 0
    if state == "ready" and status.get("python") == sys.version:
        return _failed(root, f"its packages there do not import ({type(import_error).__name__}: {import_error})", since)
    if state == "failed" and now - since < RETRY_AFTER_S:
        return _failed(root, str(status.get("reason") or "unknown"), since)
    if state != "running" or now - since >= STALE_RUN_S:
        try:
            since = start_setup(root, env, now)
        except (OSError, ValueError) as exc:  # e.g. a data directory we cannot write
            return _failed(root, f"the setup could not start: {type(exc).__name__}: {exc}", int(now))
    return BuilderUnavailable(
        f"cco-hooks: first use with this python3 ({sys.executable}, {sys.version.split()[0]}): setting up the "
        f"packages its config builder needs ({', '.join(REQUIREMENTS)}) in {root}, in the background; until it "
        f"is done, spawns are left unchanged. Progress: {_log_path(root)}.",
        f"builder-setup:{root}:{since}",
    )


def package_parent():
    """The directory holding the ``cco_hooks`` package: a plugin's root, or a site-packages."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def runs_as_plugin(env):
    """Whether this hook is the plugin's (Claude Code's ``CLAUDE_PLUGIN_ROOT`` is our package's
    parent). Only the plugin sets itself up: ``cco-hooks install`` registers a Python that pip gave
    the packages already, so there a missing one is a broken install, fixed by installing."""
    root = env.get("CLAUDE_PLUGIN_ROOT")
    try:
        return bool(root) and os.path.samefile(root, package_parent())
    except (OSError, ValueError):
        return False


def _install_hint():
    return f"`{sys.executable} -m pip install {' '.join(repr(r) for r in REQUIREMENTS)}`"


def _missing(import_error):
    return BuilderUnavailable(
        f"cco-hooks: spawns are left unchanged: this python3 ({sys.executable}) cannot import the packages its "
        f"config builder needs ({type(import_error).__name__}: {str(import_error)[:200]}). Fix: install them for "
        f"it ({_install_hint()}), or reinstall cco-hooks with it.",
        f"builder-missing:{sys.executable}",
    )


def _failed(root, reason, since):
    plugin_hook = os.path.join(package_parent(), "hooks", "cco-hook")
    return BuilderUnavailable(
        f"cco-hooks: spawns are left unchanged: the packages its config builder needs could not be set up in "
        f"{root} ({reason}). Fix: install them for this python3 ({_install_hint()}), or fix the cause and run "
        f"`{sys.executable} {plugin_hook} setup` (log: {_log_path(root)}).",
        f"builder-failed:{root}:{since}",
    )


def start_setup(root, env, now):
    """Start ``setup`` in a process of its own (new session, no pipes of the hook's): the hook
    returns at once, and Claude Code does not wait for it. Returns the ``since`` it recorded."""
    import subprocess

    files.make_private_dirs(root)
    # One starter wins (O_EXCL); the setup removes the lock when it ends. A lock older than a setup
    # can take was left by one that was killed.
    lock = _lock_path(root)
    try:
        if now - os.lstat(lock).st_mtime < STALE_RUN_S:
            return int(now)
        os.unlink(lock)
    except OSError:
        pass
    try:
        os.close(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | files.O_NOFOLLOW, 0o600))
    except OSError:
        return int(now)
    _write_status(root, state="running", since=int(now), python=sys.version)
    code = (
        "import sys; sys.path.append(sys.argv[1]); from cco_hooks import builder_env; "
        "raise SystemExit(builder_env.setup(sys.argv[2]))"
    )
    log_fd = os.open(_log_path(root), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | files.O_NOFOLLOW, 0o600)
    try:
        subprocess.Popen(
            [sys.executable, "-S", "-c", code, package_parent(), root],
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=log_fd,
            start_new_session=True,
            close_fds=True,
        )
    finally:
        os.close(log_fd)
    return int(now)


def setup(root):
    """Make ``<root>/venv`` with pip, install ``REQUIREMENTS`` into it, and record the outcome in
    ``status.json`` (read by ``activate`` and ``unavailable``). Returns the exit code."""
    import time

    os.umask(0o077)
    files.make_private_dirs(root)
    venv = os.path.join(root, "venv")
    python = os.path.join(venv, "Scripts" if os.name == "nt" else "bin", "python")
    since = int(time.time())
    _write_status(root, state="running", since=since, python=sys.version)
    steps = [
        (
            [sys.executable, "-m", "venv", "--clear", venv],
            "`python3 -m venv` failed: this python3 cannot make environments with pip (Debian/Ubuntu: "
            "`sudo apt install python3-venv`)",
        ),
        (
            [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", *REQUIREMENTS],
            "pip could not install them (no network? pip's index settings, e.g. PIP_INDEX_URL, apply)",
        ),
        (
            [python, "-c", "import pydantic, yaml, sysconfig; print(sysconfig.get_paths()['purelib'])"],
            "they were installed but do not import",
        ),
    ]
    try:
        return _run_steps(root, steps)
    finally:
        try:
            os.unlink(_lock_path(root))
        except OSError:
            pass


def _run_steps(root, steps):
    import subprocess
    import time

    output = b""
    for command, reason in steps:
        sys.stdout.write("$ " + " ".join(command) + "\n")
        sys.stdout.flush()
        try:
            done = subprocess.run(command, stdout=subprocess.PIPE, timeout=SETUP_TIMEOUT_S, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            _write_status(root, state="failed", since=int(time.time()), python=sys.version, reason=f"{reason}: {exc}")
            return 1
        output = done.stdout
        sys.stdout.write(output.decode("utf-8", "replace"))
        sys.stdout.flush()
        if done.returncode != 0:
            _write_status(root, state="failed", since=int(time.time()), python=sys.version, reason=reason)
            return 1
    site_packages = output.decode("utf-8", "replace").strip().splitlines()[-1]
    _write_status(root, state="ready", since=int(time.time()), python=sys.version, site_packages=site_packages)
    sys.stdout.write(f"ready: {site_packages}\n")
    return 0


def setup_command(argv=()):
    """``python3 <plugin>/hooks/cco-hook setup``: the setup in the foreground, its output on the
    terminal; for a user told it failed."""
    from cco_hooks import coerce

    root = env_root()
    sys.stdout.write(coerce.visible(f"cco-hooks: setting up the config builder's packages in {root}") + "\n")
    code = setup(root)
    if code:
        reason = read_status(root).get("reason")
        sys.stderr.write(coerce.visible(f"cco-hooks: setup failed: {reason}; log: {_log_path(root)}") + "\n")
    return code
