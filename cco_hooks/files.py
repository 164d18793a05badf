"""Our own files: private directories (0700), atomic private writes (0600), bounded JSON reads.

Every file cco-hooks creates goes through here, so how it is created is decided once.

Stdlib only: every hook imports it.
"""

import os

from cco_hooks import fastjson

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


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


def tighten_mode(fd, mode=0o600):
    """Narrow the file open on ``fd`` to ``mode`` (0600) when it is a regular file we own that others
    may read or write (an ``errors.log`` or ledger made 0644 by an older release, a copy, a umask).
    Through the descriptor, never by path, so a name swapped meanwhile is never touched; never a
    FIFO, device or another user's file; never widened. Returns whether it changed the mode."""
    try:
        st = os.fstat(fd)
        if (st.st_mode & 0o170000) != 0o100000 or st.st_uid != os.getuid() or not st.st_mode & 0o777 & ~mode:
            return False
        os.fchmod(fd, mode)
    except OSError:
        return False
    return True


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


class Replacement:
    """A new version of ``path``, written through the descriptor ``fd`` (opened read-write), that
    replaces ``path`` atomically on ``commit()``; ``discard()`` removes it. The file is ``mode``
    (0600 unless said otherwise) and missing directories are created 0700. ``tmp`` names the
    temporary file (default: per process, beside ``path``).

    The one way cco-hooks rewrites a file: ``write_private`` for data in hand, this class for a
    file written piece by piece and read back before it is committed (the report's summary)."""

    def __init__(self, path, tmp=None, mode=0o600):
        directory = os.path.dirname(path)
        self.path = path
        self.tmp = tmp or os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
        flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC | _O_CLOEXEC
        try:
            self.fd = os.open(self.tmp, flags, mode)
        except FileNotFoundError:  # the first file ever: create the directory only then
            make_private_dirs(directory)
            self.fd = os.open(self.tmp, flags, mode)
        if mode != 0o600:  # a mode we were asked to keep exactly, which the umask may have narrowed
            os.fchmod(self.fd, mode)
        else:  # O_TRUNC kept the mode of a temporary file left behind
            tighten_mode(self.fd)

    def write(self, data):
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def commit(self):
        os.replace(self.tmp, self.path)

    def discard(self):
        try:
            os.unlink(self.tmp)
        except OSError:
            pass


def write_private(path, data, tmp=None, mode=0o600, durable=False):
    """Replace ``path`` atomically (temp file + rename) with ``data`` (see ``Replacement``).
    ``durable``: on disk before it replaces ``path`` (fsync), for a file the user cannot rebuild."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    replacement = Replacement(path, tmp, mode)
    try:
        try:
            replacement.write(data)
            if durable:
                os.fsync(replacement.fd)
        finally:
            os.close(replacement.fd)
        replacement.commit()
    except BaseException:
        replacement.discard()
        raise


def write_exclusive(path, data, durable=False):
    """Replace ``path`` atomically with ``data`` through a temporary file of its own: a unique name
    beside ``path`` (``.<name>.<pid>.<random>.tmp``), created ``O_CREAT | O_EXCL | O_NOFOLLOW``, 0600,
    so no other writer, stale leftover or planted symlink is ever written through. Missing
    directories are created 0700. ``durable``: fsync before the rename.

    For the pending store's parts and markers: ``path`` holds either its old content or all of
    ``data``, never a part of it; on any error (disk full, quota) the temporary file is removed and
    the error raised, ``path`` untouched."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = os.path.dirname(path)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileNotFoundError:  # the first file ever: create the directory only then
        make_private_dirs(directory)
        fd = os.open(tmp, flags, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
