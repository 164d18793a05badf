"""``os`` for the hook processes: the real one where it is loaded, else the same calls on ``posix``.

``import os`` costs ~2.4 ms here, a tenth of a whole hook run: most of it is ``_collections_abc``
(its ABC classes, ~1.4 ms), which ``os`` executes for ``os.environ``. A hook runs ``python -S``, so
nothing else loads ``os`` for it, and all the hook modules use of it is a few dozen calls that the
builtin ``posix`` module makes itself (``os`` forwards them to it), plus ``os.environ`` and a handful
of ``os.path`` functions. So the hook modules take ``os`` from here:

    from cco_hooks.fastos import os

Where ``os`` is already imported (the CLI, the tests, any process with ``site``), that *is* ``os``.
In a hook process it is a module of the same name's calls: every public ``posix`` function and
constant, ``environ`` decoded as ``os`` decodes it, and in ``path`` the ``posixpath`` functions the
hook modules call, written here with the same results (``tests/unit/hooks/test_fastos.py`` compares
them with ``posixpath`` and ``os``). A call the light module lacks is an ``AttributeError`` in the
hook, which fails open; ``test_fastos`` checks every ``os.<name>`` the hot modules use is there.

Stdlib only (``posix`` and ``pwd``: built into the interpreter).
"""

import posix
import sys

_light = None


def _text(value, what="path"):
    """A path argument: a ``str`` (as ``os.fspath`` would ask, without the path protocol: nothing
    in a hook process is a ``PathLike``)."""
    if not isinstance(value, str):
        raise TypeError(f"expected str for the {what}, not {type(value).__name__}")
    return value


def join(first, *rest):
    path = _text(first)
    for part in rest:
        part = _text(part)
        if part.startswith("/"):
            path = part
        elif not path or path.endswith("/"):
            path += part
        else:
            path += "/" + part
    return path


def dirname(path):
    path = _text(path)
    head = path[: path.rfind("/") + 1]
    if head and head != "/" * len(head):
        head = head.rstrip("/")
    return head


def basename(path):
    path = _text(path)
    return path[path.rfind("/") + 1 :]


def isabs(path):
    return _text(path).startswith("/")


def normpath(path):
    path = _text(path)
    if not path:
        return "."
    # POSIX lets an implementation give exactly two leading slashes a meaning of its own: kept
    leading = 2 if path.startswith("//") and not path.startswith("///") else 1 if path.startswith("/") else 0
    parts = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part != ".." or (not leading and not parts) or (parts and parts[-1] == ".."):
            parts.append(part)
        elif parts:
            parts.pop()
    return "/" * leading + "/".join(parts) or "."


def abspath(path):
    path = _text(path)
    if not path.startswith("/"):
        path = join(posix.getcwd(), path)
    return normpath(path)


def expanduser(path):
    path = _text(path)
    if not path.startswith("~"):
        return path
    end = path.find("/", 1)
    if end < 0:
        end = len(path)
    import pwd  # built in, yet ~0.1 ms to set up: only for a ``~``

    if end == 1:
        home = light().environ.get("HOME")
        if home is None:
            try:
                home = pwd.getpwuid(posix.getuid()).pw_dir
            except KeyError:
                return path  # no home at all: left as it is, as os.path.expanduser leaves it
    else:
        try:
            home = pwd.getpwnam(path[1:end]).pw_dir
        except KeyError:
            return path
    home = home.rstrip("/")
    return (home + path[end:]) or "/"


_MAX_LINKS = 40  # as the kernel's own limit (ELOOP)
# The file types in st_mode, the same on every Unix: importing _stat for them costs ~0.1 ms
_S_IFMT, _S_IFDIR, _S_IFREG, _S_IFLNK = 0o170000, 0o040000, 0o100000, 0o120000


def realpath(path):
    """``path`` absolute, with every symlink resolved; a part that does not exist is taken as it
    is (``os.path.realpath`` without ``strict``). A loop of links is left unresolved from there."""
    path = _text(path)
    if not path.startswith("/"):
        path = posix.getcwd() + "/" + path
    todo = path.split("/")
    todo.reverse()  # the next component last
    done = ""  # resolved so far, without a trailing slash ("" is the root)
    links = 0
    while todo:
        part = todo.pop()
        if part in ("", "."):
            continue
        if part == "..":
            done = done[: done.rfind("/")] if done else ""
            continue
        candidate = done + "/" + part
        try:
            is_link = posix.lstat(candidate).st_mode & _S_IFMT == _S_IFLNK
        except OSError:
            is_link = False
        if not is_link:
            done = candidate
            continue
        links += 1
        if links > _MAX_LINKS:
            todo.reverse()
            return join(candidate, *[p for p in todo if p]) if todo else candidate
        target = posix.readlink(candidate)
        if target.startswith("/"):
            done = ""
        more = target.split("/")
        more.reverse()
        todo.extend(more)
    return done or "/"


def _stat_or_none(path, follow=True):
    try:
        return posix.stat(path) if follow else posix.lstat(path)
    except (OSError, ValueError):
        return None


def exists(path):
    return _stat_or_none(path) is not None


def lexists(path):
    return _stat_or_none(path, follow=False) is not None


def isdir(path):
    st = _stat_or_none(path)
    return st is not None and st.st_mode & _S_IFMT == _S_IFDIR


def isfile(path):
    st = _stat_or_none(path)
    return st is not None and st.st_mode & _S_IFMT == _S_IFREG


PATH_FUNCTIONS = (
    join,
    dirname,
    basename,
    isabs,
    normpath,
    abspath,
    expanduser,
    realpath,
    exists,
    lexists,
    isdir,
    isfile,
)


# The posix calls and constants the hook modules use (tests/unit/hooks/test_fastos.py checks this
# list against their source); any other is found in posix on first use.
POSIX_NAMES = (
    "O_APPEND", "O_CLOEXEC", "O_CREAT", "O_DIRECTORY", "O_EXCL", "O_NOFOLLOW", "O_NONBLOCK", "O_RDONLY",
    "O_RDWR", "O_TRUNC", "O_WRONLY", "close", "fchmod", "fstat", "fsync", "ftruncate", "get_blocking",
    "getpid", "geteuid", "getuid", "killpg", "listdir", "lseek", "lstat", "mkdir", "open", "posix_spawn",
    "POSIX_SPAWN_OPEN", "pread", "read", "replace", "rmdir", "scandir", "set_blocking", "stat", "unlink",
    "urandom", "utime", "write",
)  # fmt: skip


def light():
    """The module that stands in for ``os`` (built once)."""
    global _light
    if _light is None:
        module = type(sys)("cco_hooks.fastos.light")
        # What the hook modules call, bound now; anything else is looked up in posix when asked for
        # (copying all of posix's ~350 names costs ~0.2 ms).
        for name in POSIX_NAMES:
            if hasattr(posix, name):
                setattr(module, name, getattr(posix, name))
        module.__getattr__ = lambda name: getattr(posix, name)
        encoding, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
        module.environ = {
            key.decode(encoding, errors): value.decode(encoding, errors) for key, value in posix.environ.items()
        }
        module.name = "posix"
        module.sep = "/"
        module.curdir, module.pardir, module.extsep, module.pathsep = ".", "..", ".", ":"
        module.devnull = "/dev/null"
        module.SEEK_SET, module.SEEK_CUR, module.SEEK_END = 0, 1, 2
        path = type(sys)("cco_hooks.fastos.light.path")
        for function in PATH_FUNCTIONS:
            setattr(path, function.__name__, function)
        path.sep = "/"
        module.path = path
        _light = module
    return _light


os = sys.modules.get("os") or light()
