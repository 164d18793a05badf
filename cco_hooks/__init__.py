"""cco-hooks: route Claude Code subagent spawns to the configured model and account for their cost."""

__version__ = "0.1.0"

# The hook modules each event's process runs, each after the modules it imports at its top.
# tests/unit/architecture/test_hot_path_imports.py keeps these equal to what real hook processes
# load, and in that order.
_ROUTING = ("claude_code", "fastjson", "files", "paths", "hookio", "agents", "counterfactual", "snapshot", "hook_main")
_RECORDING = ("coerce", "pending", "records", "accounting")
_SETTLING = ("pricing", "transcript", "completion", "ledger", "totals")
HOOK_MODULES = {
    "pre-tool-use": _ROUTING + ("models", "policy") + _RECORDING,
    "post-tool-use": _ROUTING + _RECORDING + _SETTLING,
    "subagent-stop": _ROUTING + _RECORDING + _SETTLING,
    "stop": _ROUTING + _RECORDING + _SETTLING,
    "session-end": _ROUTING + _RECORDING + _SETTLING,
    "statusline": ("fastjson", "files", "paths", "hookio", "coerce", "agents", "snapshot", "statusline"),
}


def load_hook_modules(event):
    """Load the modules ``event``'s hook runs straight from their cached bytecode.

    Only the hook shims call this, before they import ``hook_main``. It skips importlib's finders
    and loaders, about a tenth of a millisecond a module where we measure (bench/README.md): with
    one module per concern, a PreToolUse loads fifteen of them, and its whole cost over a bare
    interpreter is a few milliseconds. A module whose ``.pyc`` is missing, stale or not the plain
    timestamp kind ends the preload; ``import`` then loads the rest as usual (and writes the
    ``.pyc`` for the next run). Any other error propagates: the shim fails open on it.
    """
    import marshal
    import os
    import sys

    magic = sys.modules["_frozen_importlib_external"].MAGIC_NUMBER
    tag = sys.implementation.cache_tag
    package = sys.modules[__name__]
    directory = os.path.dirname(__file__)
    for name in HOOK_MODULES.get(event, ()):
        qualified = f"{__name__}.{name}"
        if qualified in sys.modules:
            continue
        source = os.path.join(directory, name + ".py")
        try:
            st = os.stat(source)
            with open(os.path.join(directory, "__pycache__", f"{name}.{tag}.pyc"), "rb") as f:
                data = f.read()
        except OSError:
            return
        if (
            data[:4] != magic
            or data[4:8] != b"\0\0\0\0"  # flags: 0 is a timestamp pyc; hash-based ones we leave to import
            or int.from_bytes(data[8:12], "little") != int(st.st_mtime) & 0xFFFFFFFF
            or int.from_bytes(data[12:16], "little") != st.st_size & 0xFFFFFFFF
        ):
            return
        module = type(sys)(qualified)
        module.__file__ = source
        module.__package__ = __name__
        sys.modules[qualified] = module
        try:
            exec(marshal.loads(memoryview(data)[16:]), module.__dict__)
        except BaseException:
            del sys.modules[qualified]
            raise
        setattr(package, name, module)
