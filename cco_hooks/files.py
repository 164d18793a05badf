"""Our own files: private directories (0700), atomic private writes (0600), bounded JSON reads.

Every file cco-hooks creates goes through here, so how it is created is decided once: nothing is
ever opened for writing through a symbolic link (``O_NOFOLLOW`` on the last component), every
temporary file has a name of its own and is created ``O_EXCL``, modes are set on the descriptor we
opened (``fchmod``), never by path. The ledger may live in a directory other users can write: a
name planted there (a link to the user's ``~/.bashrc``, a named pipe, a device) must never be
written through, truncated or chmodded. ``open_own`` / ``check_own`` / ``read_own_json_object``
accept only a regular file owned by the user and raise ``UnsafeFile`` for anything else.

Stdlib only: every hook imports it.
"""

from cco_hooks import fastjson
from cco_hooks.fastos import os

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_NOFOLLOW = _O_NOFOLLOW
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a named pipe must never hang an open or a read
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_S_IFMT = 0o170000
_KINDS = {
    0o120000: "a symbolic link",
    0o010000: "a named pipe (FIFO)",
    0o020000: "a character device",
    0o060000: "a block device",
    0o040000: "a directory",
    0o140000: "a socket",
}
_S_IFREG = 0o100000


class UnsafeFile(OSError):
    """A name where cco-hooks keeps a file of its own holds something else: a symbolic link, a
    named pipe, a device, a directory, or a file another user owns. Nothing was written through it,
    truncated or chmodded. ``strerror`` says what it is; ``str()`` is the whole message for the user."""

    def __init__(self, path, what):
        super().__init__(22, f"it is {what}, not a regular file of yours", path)  # 22: EINVAL
        self.what = what

    def __str__(self):
        return (
            f"cco-hooks: {self.filename} is {self.what}, not a regular file of yours; cco-hooks "
            "left it untouched and records nothing there. Fix: remove it, and keep the ledger in a "
            "directory only you can write (chmod 700)."
        )


def _unsafe_kind(st):
    """What is wrong with a file of ours whose stat is ``st`` (``None``: a regular file we own)."""
    kind = st.st_mode & _S_IFMT
    if kind != _S_IFREG:
        return _KINDS.get(kind, "not a regular file")
    uid = os.geteuid() if hasattr(os, "geteuid") else st.st_uid
    if st.st_uid != uid:
        return f"owned by another user (uid {st.st_uid})"
    return None


def kind_of_mode(mode):
    """What a file of ``st_mode`` is, as words (``"a character device"``)."""
    return "a regular file" if mode & _S_IFMT == _S_IFREG else _KINDS.get(mode & _S_IFMT, "not a regular file")


def kind_of(path):
    """What ``path`` is, as words (``"a named pipe (FIFO)"``), without following a link; ``None``
    for a regular file or a missing one."""
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        return None
    kind = st.st_mode & _S_IFMT
    return None if kind == _S_IFREG else _KINDS.get(kind, "not a regular file")


def check_own(path):
    """``True`` when ``path`` is a regular file the user owns, ``False`` when there is nothing
    there; anything else raises ``UnsafeFile`` (looked at with ``lstat``: nothing is opened)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    what = _unsafe_kind(st)
    if what is not None:
        raise UnsafeFile(path, what)
    return True


def check_own_dir(path):
    """``True`` when ``path`` is a directory the user owns (not a link to one), ``False`` when
    there is nothing there; anything else raises ``UnsafeFile``."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    kind = st.st_mode & _S_IFMT
    if kind != 0o040000:
        raise UnsafeFile(path, _KINDS.get(kind, "not a directory"))
    uid = os.geteuid() if hasattr(os, "geteuid") else st.st_uid
    if st.st_uid != uid:
        raise UnsafeFile(path, f"a directory owned by another user (uid {st.st_uid})")
    return True


def open_own(path, flags, mode=0o600):
    """``os.open`` for a file of ours: never through a link, never blocking on a pipe, and only a
    regular file the user owns (checked on the descriptor, after the open); else ``UnsafeFile``,
    with nothing written, truncated or chmodded. ``O_TRUNC`` is refused: truncate after the check."""
    if flags & os.O_TRUNC:
        raise ValueError("open_own: truncate after the check, never with O_TRUNC")
    if not check_own(path) and not flags & os.O_CREAT:
        raise FileNotFoundError(2, "No such file or directory", path)
    try:
        fd = os.open(path, flags | _O_NOFOLLOW | O_NONBLOCK | _O_NOCTTY | _O_CLOEXEC, mode)
    except OSError as exc:
        what = kind_of(path)  # a link (ELOOP), a pipe without a reader (ENXIO) planted meanwhile
        if what is not None:
            raise UnsafeFile(path, what) from None
        raise exc from None
    try:
        what = _unsafe_kind(os.fstat(fd))
    except OSError:
        os.close(fd)
        raise
    if what is not None:
        os.close(fd)
        raise UnsafeFile(path, what)
    return fd


def read_own_json_object(path, cap):
    """``read_json_object`` for a file only we write: ``None`` when it is missing, over ``cap``
    bytes, not JSON or not an object; ``UnsafeFile`` when it is a link, a pipe, a device or
    another user's file (its content is never read)."""
    try:
        fd = open_own(path, os.O_RDONLY)
    except UnsafeFile:
        raise
    except (OSError, ValueError):
        return None
    return _json_object_from(fd, cap)


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
        # The umask may have removed bits we want; never add others. Through a descriptor of the
        # directory we just made: by path, a link put there meanwhile would have its target chmodded.
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _O_NOFOLLOW | _O_CLOEXEC)
        except OSError:
            continue
        try:
            os.fchmod(fd, 0o700)
        except OSError:
            pass
        finally:
            os.close(fd)


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


def read_head(path, limit):
    """Up to ``limit`` bytes from the start of a regular file, or ``None`` (missing, unreadable, not
    a regular file). For files others may have put in place (agent definitions, Claude Code's own
    settings and transcripts, our snapshot): opened non-blocking and checked on the descriptor, so
    a named pipe or a device there can neither hang a hook nor feed it without end."""
    try:
        fd = os.open(path, os.O_RDONLY | _O_CLOEXEC | O_NONBLOCK | _O_NOCTTY)
    except (OSError, ValueError, TypeError):
        return None
    try:
        if (os.fstat(fd).st_mode & 0o170000) != 0o100000:
            return None
        chunks = []
        left = limit
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_json_object(path, cap):
    """The JSON object in a small file we own, or ``None`` (missing, not regular, over ``cap``
    bytes, not JSON, not an object). Opened non-blocking, so a named pipe cannot hang a hook."""
    try:
        fd = os.open(path, os.O_RDONLY | _O_CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError):
        return None
    return _json_object_from(fd, cap)


def _json_object_from(fd, cap):
    """The JSON object in the file open on ``fd`` (closed here), or ``None``: unreadable, over
    ``cap`` bytes, not JSON, not an object."""
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
    (0600 unless said otherwise) and missing directories are created 0700. The temporary file is
    created ``O_CREAT | O_EXCL | O_NOFOLLOW``: by default under a name of its own beside ``path``
    (``.<name>.<pid>.<random>.tmp``); a ``tmp`` name given is used only once whatever is there (a
    stale leftover, a planted link) has been unlinked — a link is removed, never written through.

    The one way cco-hooks rewrites a file: ``write_private`` for data in hand, this class for a
    file written piece by piece and read back before it is committed (the report's summary)."""

    def __init__(self, path, tmp=None, mode=0o600):
        directory = os.path.dirname(path)
        self.path = path
        self.tmp = tmp or _unique_tmp(path)
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
        try:
            self.fd = os.open(self.tmp, flags, mode)
        except FileNotFoundError:  # the first file ever: create the directory only then
            make_private_dirs(directory)
            self.fd = os.open(self.tmp, flags, mode)
        except FileExistsError:
            if tmp is None:
                raise
            os.unlink(self.tmp)  # a leftover of a killed writer, or a planted link: the name goes
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


def _unique_tmp(path):
    return os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.{os.urandom(6).hex()}.tmp")


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
    tmp = _unique_tmp(path)
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
