"""cco_hooks (the package itself): its version, and the preload of each event's hook modules."""

import os
import shutil
import subprocess
import sys

import pytest

import cco_hooks
from tests.support.locations import REPO

PROBE = (
    "import sys; sys.dont_write_bytecode = False; sys.path.insert(0, sys.argv[1]); import cco_hooks; "
    "cco_hooks.load_hook_modules(sys.argv[2]); "
    "print(' '.join(n for n, m in sys.modules.items() if n.startswith('cco_hooks.') and m.__spec__ is None))"
)


@pytest.fixture
def package(tmp_path):
    """A copy of the package without any bytecode cache."""
    shutil.copytree(REPO / "cco_hooks", tmp_path / "cco_hooks", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def preloaded(package, event="pre-tool-use"):
    result = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, str(package), event], capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def compile_all(package):
    """What a first hook run leaves: every module imported once the usual way, bytecode written."""
    names = ", ".join(f"cco_hooks.{name}" for name in cco_hooks.HOOK_MODULES["post-tool-use"] + ("policy", "models"))
    code = f"import sys; sys.dont_write_bytecode = False; sys.path.insert(0, sys.argv[1]); import {names}"
    subprocess.run([sys.executable, "-S", "-c", code, str(package)], check=True)


def test_the_version_is_the_packages():
    assert f'\nversion = "{cco_hooks.__version__}"\n' in (REPO / "pyproject.toml").read_text()


def test_without_bytecode_nothing_is_preloaded(package):
    """A fresh install has no .pyc yet: the preload stops at once and import does the work."""
    assert preloaded(package) == []


def test_with_current_bytecode_every_listed_module_is_preloaded_in_order(package):
    compile_all(package)
    assert preloaded(package) == [f"cco_hooks.{name}" for name in cco_hooks.HOOK_MODULES["pre-tool-use"]]


def test_a_changed_source_ends_the_preload_at_that_module(package):
    """An edited module's .pyc is stale: it and every module after it are left to import."""
    compile_all(package)
    names = cco_hooks.HOOK_MODULES["pre-tool-use"]
    edited = package / "cco_hooks" / f"{names[3]}.py"
    edited.write_text(edited.read_text() + "\n# edited\n")
    assert preloaded(package) == [f"cco_hooks.{name}" for name in names[:3]]


def test_preloaded_modules_work_like_imported_ones(package):
    """A preloaded module has its name, file and package, and the package has it as an attribute."""
    compile_all(package)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import cco_hooks; cco_hooks.load_hook_modules('stop'); "
        "from cco_hooks import files, snapshot; "
        "print(files.__name__, files.__file__, files.__package__, files.__spec__, "
        "cco_hooks.files is sys.modules['cco_hooks.files'], snapshot.files is files)"
    )
    out = subprocess.run([sys.executable, "-S", "-c", code, str(package)], capture_output=True, text=True, check=True)
    path = os.path.join(str(package), "cco_hooks", "files.py")
    assert out.stdout.split() == ["cco_hooks.files", path, "cco_hooks", "None", "True", "True"]


def test_an_unknown_event_preloads_nothing(package):
    compile_all(package)
    assert preloaded(package, "no-such-event") == []


C_MODULE_PROBE = (
    "import sys; sys.path.insert(0, sys.argv[1]); import cco_hooks; "
    "before = {p: getattr(f, '_path_cache', None) and set(f._path_cache) for p, f in sys.path_importer_cache.items()}; "
    "m = cco_hooks.c_module(sys.argv[2]); "
    "finders = [p for p, f in sys.path_importer_cache.items() if f is not None and "
    "(p not in before or (getattr(f, '_path_cache', None) and set(f._path_cache)) != before[p])]; "
    "print(getattr(m, '__file__', 'built-in'), len(finders), m is sys.modules[sys.argv[2]])"
)


def c_module_in_fresh_process(name, extra_path=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    if extra_path:
        env["PYTHONPATH"] = str(extra_path)
    out = subprocess.run(
        [sys.executable, "-S", "-c", C_MODULE_PROBE, str(REPO), name], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    origin, finders, registered = out.stdout.split()
    assert registered == "True"
    return origin, int(finders)


@pytest.mark.parametrize("name", ["_json", "fcntl"])
def test_c_module_loads_the_stdlib_module_import_would_and_leaves_the_path_finder_alone(name):
    """The module ``import`` finds, without importlib's path finder listing the standard library's
    directories (the ~0.55 ms a hook saves); built into this interpreter, it is imported as usual."""
    origin, finders = c_module_in_fresh_process(name)
    expected = subprocess.run(
        [sys.executable, "-S", "-c", f"import {name}; print(getattr({name}, '__file__', 'built-in'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert origin == expected
    if expected != "built-in":
        assert finders == 0, "the path finder was used"


def test_c_module_leaves_a_module_of_that_name_earlier_on_the_path_to_import(tmp_path):
    """``PYTHONPATH`` (or the script's directory) comes before the standard library: what is there
    wins, as with ``import`` (the tests' fault injection replaces ``fcntl`` so)."""
    (tmp_path / "fcntl.py").write_text("PLANTED = True\n")
    origin, _ = c_module_in_fresh_process("fcntl", tmp_path)
    assert origin == str(tmp_path / "fcntl.py")


def bundle_of(package, event="pre-tool-use"):
    return package / "cco_hooks" / "__pycache__" / f"cco-hooks.{event}.{sys.implementation.cache_tag}.bundle"


def test_the_first_preload_writes_the_events_bundle_and_the_next_loads_from_it(package):
    """One file per event: after a first preload from the .pyc files, the modules come from the
    bundle alone (here the .pyc files are gone and everything is still preloaded)."""
    compile_all(package)
    names = [f"cco_hooks.{name}" for name in cco_hooks.HOOK_MODULES["pre-tool-use"]]
    assert preloaded(package) == names
    bundle = bundle_of(package)
    assert bundle.is_file() and bundle.stat().st_mode & 0o777 == 0o600
    for pyc in (package / "cco_hooks" / "__pycache__").glob("*.pyc"):
        pyc.unlink()
    assert preloaded(package) == names
    assert not [p for p in bundle.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_stale_bundle_is_not_used(package):
    """An edited module makes its event's bundle stale, as its .pyc: the new source is what runs."""
    compile_all(package)
    names = cco_hooks.HOOK_MODULES["pre-tool-use"]
    preloaded(package)
    edited = package / "cco_hooks" / f"{names[5]}.py"
    edited.write_text(edited.read_text() + "\nEDITED_SINCE = 1\n")
    assert preloaded(package) == [f"cco_hooks.{name}" for name in names[:5]]
    probe = f"import sys; sys.path.insert(0, sys.argv[1]); import cco_hooks.{names[5]} as m; print(m.EDITED_SINCE)"
    out = subprocess.run([sys.executable, "-S", "-c", probe, str(package)], capture_output=True, text=True)
    assert out.stdout.strip() == "1", out.stderr


@pytest.mark.parametrize("damage", [b"", b"garbage", b"\xe3\x00\x00"])
def test_a_damaged_bundle_is_written_again_from_the_pyc_files(package, damage):
    compile_all(package)
    preloaded(package)
    bundle = bundle_of(package)
    good = bundle.read_bytes()
    bundle.write_bytes(damage)
    assert preloaded(package) == [f"cco_hooks.{name}" for name in cco_hooks.HOOK_MODULES["pre-tool-use"]]
    assert bundle.read_bytes() == good


def test_a_bundle_that_cannot_be_written_leaves_nothing_behind(package):
    compile_all(package)
    bundle_of(package).mkdir()  # its name taken: the rename onto it fails
    assert preloaded(package) == [f"cco_hooks.{name}" for name in cco_hooks.HOOK_MODULES["pre-tool-use"]]
    leftovers = [p for p in bundle_of(package).parent.iterdir() if p.name.endswith(".tmp")]
    assert bundle_of(package).is_dir() and not leftovers


def test_the_bundle_holds_the_modules_compiled_without_docstrings(package):
    """As ``python -OO`` compiles them: a sixth less to unmarshal. What they run is the same."""
    compile_all(package)
    preloaded(package)  # writes the bundle
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import cco_hooks; cco_hooks.load_hook_modules('pre-tool-use'); "
        "from cco_hooks import files; print(files.__spec__, files.__doc__, files.stable_name('x'))"
    )
    out = subprocess.run([sys.executable, "-S", "-c", probe, str(package)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["None", "None", cco_hooks.files.stable_name("x")]


def test_the_hook_modules_hold_no_assert_the_bundle_would_drop():
    import ast

    names = {name for listed in cco_hooks.HOOK_MODULES.values() for name in listed}
    for name in sorted(names):
        tree = ast.parse((REPO / "cco_hooks" / f"{name}.py").read_text(encoding="utf-8"))
        assert not [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)], name
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "__debug__"], name
