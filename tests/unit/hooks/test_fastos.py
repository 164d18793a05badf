"""cco_hooks.fastos: the ``os`` a hook process uses without importing ``os`` gives what ``os`` gives.

Here (pytest) ``os`` is loaded, so ``fastos.os`` is ``os`` itself; the light module that stands in
for it in a hook process is built with ``fastos.light()`` and compared, call by call, with
``os`` and ``posixpath``. A real hook process running on it is in test_hot_path_imports.py.
"""

import ast
import os
import posixpath
import subprocess
import sys
from pathlib import Path

import pytest

from cco_hooks import fastos

REPO = Path(__file__).resolve().parents[3]

PATHS = [
    "",
    "/",
    "//",
    "///",
    "//a",
    "///a//b/",
    "a",
    "a/",
    "a//b",
    "./a/./b/.",
    "../a",
    "../../a/..",
    "a/../..",
    "/..",
    "/../a",
    "/a/b/../../..",
    "/a/./b/../c/",
    "~",
    "~/x",
    "~root/x",
    "~no-such-user-here/x",
    "x/~",
    ".",
    "..",
    "a/b/c/../../d",
]


@pytest.fixture(scope="module")
def light():
    return fastos.light()


def test_in_a_process_that_has_os_it_is_os():
    assert fastos.os is os


@pytest.mark.parametrize("path", PATHS)
def test_path_functions_answer_as_posixpath(light, path):
    for name in ("dirname", "basename", "isabs", "normpath"):
        assert getattr(light.path, name)(path) == getattr(posixpath, name)(path), (name, path)
    if path:
        assert light.path.abspath(path) == posixpath.abspath(path), path


@pytest.mark.parametrize(
    "parts",
    [("a",), ("a", "b"), ("a/", "b"), ("", "b"), ("a", ""), ("a", "/b", "c"), ("/", "x"), ("a//", "//b", "c/")],
)
def test_join_answers_as_posixpath(light, parts):
    assert light.path.join(*parts) == posixpath.join(*parts)


@pytest.mark.parametrize("bad", [None, 3, ["a"]])
def test_a_value_that_is_no_path_is_a_type_error_as_in_posixpath(light, bad):
    """The hooks pass payload values to these and catch TypeError as posixpath raises it."""
    for name in ("join", "dirname", "basename", "isabs", "abspath", "expanduser", "realpath"):
        with pytest.raises(TypeError):
            getattr(posixpath, name)(bad)
        with pytest.raises(TypeError):
            getattr(light.path, name)(bad)


def test_bytes_paths_are_refused_nothing_in_a_hook_uses_them(light):
    with pytest.raises(TypeError):
        light.path.join(b"/x", b"y")


def test_expanduser_reads_home_and_else_the_password_database(light, monkeypatch):
    for home in ("/home/someone", "/home/someone/", "/", "relative/home"):
        monkeypatch.setitem(light.environ, "HOME", home)
        monkeypatch.setenv("HOME", home)
        for path in ("~", "~/", "~/a/b", "~root", "~root/x", "x/~", "~no-such-user-here"):
            assert light.path.expanduser(path) == posixpath.expanduser(path), (home, path)
    monkeypatch.delitem(light.environ, "HOME")
    monkeypatch.delenv("HOME")
    assert light.path.expanduser("~/a") == posixpath.expanduser("~/a")


def test_realpath_resolves_links_as_os_path_realpath(light, tmp_path, monkeypatch):
    root = tmp_path.resolve()
    (root / "real" / "deep").mkdir(parents=True)
    (root / "real" / "deep" / "file.jsonl").write_text("x")
    (root / "abs").symlink_to(root / "real")  # absolute target
    (root / "rel").symlink_to("real/deep")  # relative target
    (root / "real" / "up").symlink_to("..")  # a link to its parent
    (root / "chain1").symlink_to("chain2")
    (root / "chain2").symlink_to("abs/deep")
    (root / "loop1").symlink_to("loop2")
    (root / "loop2").symlink_to("loop1")
    (root / "dangling").symlink_to("nowhere/else")
    monkeypatch.chdir(root)
    cases = [
        "abs/deep/file.jsonl",
        "rel/file.jsonl",
        "rel/../deep/file.jsonl",
        "real/up/real/up/abs/deep/../deep/file.jsonl",
        "chain1/file.jsonl",
        "dangling",
        "dangling/more",
        "missing/../abs",
        "abs/deep/file.jsonl/..",
        ".",
        "",
        "/",
    ]
    for case in cases:
        for path in (case, str(root / case) if case else case):
            assert light.path.realpath(path) == os.path.realpath(path), path
    # A loop is no path to anything: both leave it unresolved, neither hangs
    assert light.path.realpath("loop1/x").startswith(str(root))
    with pytest.raises(ValueError):
        light.path.realpath("a\0b")


def test_the_stat_predicates(light, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    (tmp_path / "link").symlink_to("missing")
    for path in ("d", "f", "link", "missing", "d\0x"):
        full = str(tmp_path / path)
        assert light.path.exists(full) == os.path.exists(full)
        assert light.path.lexists(full) == os.path.lexists(full)
        assert light.path.isdir(full) == os.path.isdir(full)
        assert light.path.isfile(full) == os.path.isfile(full)


def test_environ_is_the_process_environment_decoded_as_os_decodes_it(light):
    # The light environ was read when it was built; what the tests changed since is not in it.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from cco_hooks import fastos;"
        "print(fastos.light().environ == dict(__import__('os').environ))"
    )
    env = dict(os.environ, CCO_FASTOS_ODD="caf\u00e9 \udcff")
    out = subprocess.run([sys.executable, "-S", "-c", code, str(REPO)], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "True", out.stderr


def _hot_modules():
    import cco_hooks

    names = set()
    for listed in cco_hooks.HOOK_MODULES.values():
        names.update(listed)
    return sorted(names | {"budget", "caps", "live", "feedback", "export_start", "zones", "statusline"})


def test_every_os_call_of_the_hot_modules_is_in_the_light_module(light):
    """A name the light module lacked would be an AttributeError in a hook (failing open): every
    ``os.<name>`` and ``os.path.<name>`` the hook modules use exists there."""
    missing = []
    for name in _hot_modules():
        tree = ast.parse((REPO / "cco_hooks" / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
                # bound when the light module is built (fastos.POSIX_NAMES), not looked up on each call
                if node.attr not in vars(light):
                    missing.append(f"{name}: os.{node.attr}")
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id == "os"
                and node.value.attr == "path"
                and not hasattr(light.path, node.attr)
            ):
                missing.append(f"{name}: os.path.{node.attr}")
    assert not missing


def test_a_posix_name_the_light_module_did_not_bind_is_still_found(light):
    assert light.getppid() == os.getppid()
    with pytest.raises(AttributeError):
        light.no_such_call  # noqa: B018


def test_the_hot_modules_take_os_from_fastos():
    """``import os`` in a hot module would load the real one (~2.4 ms) in every hook process."""
    offenders = []
    for name in _hot_modules():
        tree = ast.parse((REPO / "cco_hooks" / f"{name}.py").read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Import) and any(alias.name in ("os", "posixpath", "stat") for alias in node.names):
                offenders.append(name)
    assert not offenders


@pytest.mark.parametrize("entry", ["cco_hooks/_shim.py", "hooks/cco-hook"])
def test_a_hook_process_never_imports_os(entry):
    """A whole hook process, as installed (``python -S`` on the shim) or as the plugin runs it:
    ``os`` stays unloaded."""
    dump = REPO / ".cache" / f"fastos-modules-{os.getpid()}.txt"
    dump.parent.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["CCO_HOOKS_DEBUG_MODULES"] = str(dump)
    try:
        subprocess.run(
            [sys.executable, "-S", str(REPO / entry), "pre-tool-use"],
            input=b'{"tool_name": "Bash", "tool_input": {}}',
            env=env,
            capture_output=True,
            check=True,
        )
        loaded = {line.split()[0] for line in dump.read_text().splitlines() if line}
    finally:
        dump.unlink(missing_ok=True)
    assert "cco_hooks.hook_main" in loaded
    assert not {"os", "posixpath", "_collections_abc", "stat"} & loaded
