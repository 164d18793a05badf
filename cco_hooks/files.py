"""Our own files: private directories (0700), atomic private writes (0600), bounded JSON reads.

Every file cco-hooks creates goes through here, so how it is created is decided once.

Stdlib only: every hook imports it.
"""

import os

from cco_hooks import fastjson

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def stable_name(text):
    """A short file name for ``text`` that is the same in every process and Python version
    (FNV-1a, 64 bits, as 16 hex digits): ``hash()`` is salted per process, ``hashlib`` costs an
    import on the hot path."""
    value = 0xCBF29CE484222325
    for byte in text.encode("utf-8", "surrogatepass"):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def make_private_dirs(directory):
    """Create ``directory`` and any missing parents as 0700 (``os.makedirs`` gives parents 0755).

    Directories that already exist are left alone: the ledger may point into a shared place.
    """
    missing = []
    current = os.path.abspath(directory)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        try:
            os.chmod(path, 0o700)  # the umask may have removed bits we want; never add others
        except OSError:
            pass


def read_json_object(path, cap):
    """The JSON object in a small file we own, or ``None`` (missing, not regular, over ``cap``
    bytes, not JSON, not an object). Opened non-blocking, so a named pipe cannot hang a hook."""
    try:
        fd = os.open(path, os.O_RDONLY | _O_CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError):
        return None
    try:
        data = os.read(fd, cap + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > cap:
        return None
    try:
        obj = fastjson.loads(data)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def write_private(path, data, tmp=None, mode=0o600):
    """Replace ``path`` atomically (temp file + rename) with ``data``; the file is ``mode`` (0600
    unless said otherwise), and missing directories are created 0700. ``tmp`` names the temporary
    file (default: per process). The one atomic writer of the project."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = os.path.dirname(path)
    tmp = tmp or os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_CLOEXEC
    try:
        fd = os.open(tmp, flags, mode)
    except FileNotFoundError:  # the first file ever: create the directory only then
        make_private_dirs(directory)
        fd = os.open(tmp, flags, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.replace(tmp, path)
