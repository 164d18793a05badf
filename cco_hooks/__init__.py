"""cco-hooks: route Claude Code subagent spawns to the configured model and account for their cost."""

__version__ = "0.1.0"

# The hook modules each event's process runs, each after the modules it imports at its top.
# tests/unit/architecture/test_hot_path_imports.py keeps these equal to what real hook processes
# load, and in that order.
_ROUTING = (
    "fastos",
    "claude_code",
    "fastjson",
    "files",
    "paths",
    "hookio",
    "agents",
    "counterfactual",
    "snapshot",
    "hook_main",
)
_RECORDING = ("coerce", "pending", "records", "accounting")
_SETTLING = ("pricing", "transcript", "completion", "ledger", "totals")
HOOK_MODULES = {
    "pre-tool-use": _ROUTING + ("models", "policy") + _RECORDING,
    "post-tool-use": _ROUTING + _RECORDING + _SETTLING,
    "subagent-stop": _ROUTING + _RECORDING + _SETTLING,
    "stop": _ROUTING + _RECORDING + _SETTLING,
    "session-end": _ROUTING + _RECORDING + _SETTLING,
    "statusline": ("fastos", "fastjson", "files", "paths", "hookio", "coerce", "agents", "snapshot", "statusline"),
    # loaded by PreToolUse only when the config asks for them (hook_main.preload)
    "budget": ("ledger", "totals", "budget"),
    "caps": ("caps",),
}


def load_hook_modules(event):
    """Load the modules ``event``'s hook runs straight from their cached bytecode.

    Only the hook shims call this, before they import ``hook_main``. It skips importlib's finders
    and loaders, about a tenth of a millisecond a module where we measure (bench/README.md): with
    one module per concern, a PreToolUse loads fifteen of them, and its whole cost over a bare
    interpreter is a few milliseconds. They come from one file, the event's bundle
    (``__pycache__/cco-hooks.<event>.<tag>.bundle``: the modules' code, stamped with each source's
    mtime and size as a ``.pyc`` is), written by the first run that loaded them all from current
    ``.pyc`` files and found the bundle missing or stale. A module whose ``.pyc`` is missing, stale
    or not the plain timestamp kind ends the preload; ``import`` then loads the rest as usual (and
    writes the ``.pyc`` for the next run). Any other error propagates: the shim fails open on it.
    """
    import marshal
    import posix  # not os: a hook process never imports it (cco_hooks.fastos)
    import sys

    names = HOOK_MODULES.get(event, ())
    if not names or any(f"{__name__}.{name}" in sys.modules for name in names):
        return  # a stage's modules loaded already (a test, an embedding): import does the rest
    magic = sys.modules["_frozen_importlib_external"].MAGIC_NUMBER
    tag = sys.implementation.cache_tag
    directory = __file__.rpartition("/")[0]
    stamps = []
    for name in names:
        try:
            st = posix.stat(f"{directory}/{name}.py")
        except OSError:
            return
        stamps.append((int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF))
    stamps = tuple(stamps)
    bundle = f"{directory}/__pycache__/cco-hooks.{event}.{tag}.bundle"
    try:
        kind, bundle_magic, bundle_names, bundle_stamps, codes = marshal.loads(_read_small(posix, bundle))
        fresh = (kind, bundle_magic, bundle_names, bundle_stamps) == ("cco-hooks bundle", magic, names, stamps)
    except (OSError, ValueError, EOFError, TypeError):
        fresh = False
    if fresh:
        for name, code in zip(names, codes, strict=True):
            _run_module(sys, name, code)
        return
    for name, (mtime, size) in zip(names, stamps, strict=True):
        try:
            data = _read_small(posix, f"{directory}/__pycache__/{name}.{tag}.pyc")
        except OSError:
            return
        if (
            data[:4] != magic
            or data[4:8] != b"\0\0\0\0"  # flags: 0 is a timestamp pyc; hash-based ones we leave to import
            or int.from_bytes(data[8:12], "little") != mtime
            or int.from_bytes(data[12:16], "little") != size
        ):
            return
        _run_module(sys, name, marshal.loads(memoryview(data)[16:]))
    _write_bundle(sys, posix, bundle, directory, names, stamps, magic)


def _run_module(sys, name, code):
    qualified = f"{__name__}.{name}"
    module = type(sys)(qualified)
    module.__file__ = f"{__file__.rpartition('/')[0]}/{name}.py"
    module.__package__ = __name__
    sys.modules[qualified] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        del sys.modules[qualified]
        raise
    setattr(sys.modules[__name__], name, module)


def _write_bundle(sys, posix, path, directory, names, stamps, magic):
    """Write an event's bundle beside the ``.pyc`` files: its modules compiled from their sources as
    ``python -OO`` compiles them (no docstrings: a sixth less to unmarshal on every hook run; the
    hook modules read no docstring and hold no ``assert``), stamped as the sources were when this
    process loaded them (a source changed since: no bundle). Atomically, 0600, never through a link
    (``files.write_exclusive``); where the package cannot be written (a system install), not at all:
    the next run loads the ``.pyc`` files one by one again."""
    import marshal

    if not posix.access(path.rpartition("/")[0], posix.W_OK):
        return
    codes = []
    try:
        for name, stamp in zip(names, stamps, strict=True):
            source = f"{directory}/{name}.py"
            text = _read_small(posix, source)
            st = posix.stat(source)
            if (int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF) != stamp or len(text) != st.st_size:
                return
            codes.append(compile(text, source, "exec", dont_inherit=True, optimize=2))
    except (OSError, SyntaxError, ValueError):
        return
    data = marshal.dumps(("cco-hooks bundle", magic, names, stamps, tuple(codes)))
    files = sys.modules.get(f"{__name__}.files")  # loaded by every event (its bundle is written after)
    if files is not None:
        try:
            files.write_exclusive(path, data)
        except OSError:
            pass


def _read_small(posix, path):
    """A whole file through the descriptor calls: ``open()`` builds an io stack for each file, about
    forty microseconds here, and a hook reads fifteen of these."""
    fd = posix.open(path, posix.O_RDONLY | getattr(posix, "O_CLOEXEC", 0))
    try:
        chunks = []
        while True:
            chunk = posix.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        posix.close(fd)


def c_module(name):
    """``import name`` for a standard library C module (``_json``, ``fcntl``), loaded from its file
    in ``lib-dynload`` directly when that is where ``import`` would find it.

    The first import a hook process makes through importlib's path finder costs ~0.55 ms here: it
    lists the standard library's directories to fill its caches. A hook's only imports that would
    need it are these C modules (its own modules are loaded by ``load_hook_modules``), so they are
    found by name instead. Anything that could make ``import`` find something else is left to
    ``import``: a module built into the interpreter (as Debian builds ``_json``), an import hook of
    its own in ``sys.meta_path``, or a module of that name in a ``sys.path`` entry before
    ``lib-dynload`` (``PYTHONPATH``: the tests' fault injection replaces ``fcntl`` so).
    """
    import sys

    module = sys.modules.get(name)
    if module is not None:
        return module
    origin = _dynload_origin(name, sys)
    if origin is None:
        return __import__(name)
    external = sys.modules["_frozen_importlib_external"]
    spec = external.spec_from_file_location(name, origin)
    module = sys.modules["_frozen_importlib"].module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _dynload_origin(name, sys):
    """The file in ``lib-dynload`` that ``import name`` would load, or ``None`` when that is not
    certain (see ``c_module``)."""
    bootstrap = sys.modules["_frozen_importlib"]
    external = sys.modules["_frozen_importlib_external"]
    standard = (bootstrap.BuiltinImporter, bootstrap.FrozenImporter, external.PathFinder)
    if name in sys.builtin_module_names or any(finder not in standard for finder in sys.meta_path):
        return None
    import _imp
    import posix

    suffixes = _imp.extension_suffixes()
    for directory in sys.path:
        if not isinstance(directory, str):
            return None
        if directory.endswith("/lib-dynload"):
            for suffix in suffixes:
                origin = f"{directory}/{name}{suffix}"
                try:
                    posix.stat(origin)
                except OSError:
                    continue
                return origin
            return None
        base = directory or "."
        try:
            if posix.stat(base).st_mode & 0o170000 != 0o040000:
                return None  # not a directory (a zip file on sys.path): zipimport decides
        except OSError:
            continue  # no such entry: nothing to find there
        for candidate in (name, f"{name}.py", f"{name}.pyc", *(name + suffix for suffix in suffixes)):
            try:
                posix.stat(f"{base}/{candidate}")
            except OSError:
                continue
            return None  # something of that name comes first: import finds it
    return None
