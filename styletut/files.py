"""Files that are never half-written (:func:`atomic_write`), and never trusted unchecked (:func:`read_checked`).

A result or a checkpoint is first written to a temporary file in the same
folder, flushed to disk, and then renamed over the target in one step
(``os.replace`` is atomic on POSIX and Windows). A crash, Ctrl-C, kill -9 or
a full disk at any moment leaves either the old file or the new one, never
a mixture, and no temporary file behind.

A trained network that ships with the course is read with
:func:`read_checked`: its bytes must have the sha256 recorded for it, so a
file that was changed or damaged is refused before it is unpickled.
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from pathlib import Path
from typing import BinaryIO, Callable

__all__ = ["atomic_write", "read_checked"]


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None], what: str = "file") -> Path:
    """Write ``path`` atomically: ``write(fh)`` fills a temporary file that then replaces ``path``.

    The new file gets the permissions any new file gets (``0o666`` less the
    umask), like ``open(path, "wb")`` would give it.

    Args:
        path: the file to create or replace; its folder is created if missing.
        write: called with a binary file object to write the contents.
        what: what the file is, for error messages ("image", "checkpoint").

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OSError: with a message naming ``path``: a full disk (``ENOSPC``) says
            that the previous file is untouched; a folder without write
            permission says so. Whatever ``write`` raises is re-raised after
            the temporary file is removed.

    Example:
        >>> atomic_write("/tmp/hello.txt", lambda fh: fh.write(b"hi"))  # doctest: +SKIP
        PosixPath('/tmp/hello.txt')
    """
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        # O_EXCL: never write through a file or link someone else put there.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except PermissionError as err:
        raise PermissionError(err.errno, f"cannot write {what} '{path}': no permission to create files in "
                                         f"'{path.parent}'; choose another folder") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno == errno.ENOSPC:
            raise OSError(errno.ENOSPC, f"disk full while writing {what} '{path}'; free some space or choose "
                                        "another folder (the previous file there, if any, is untouched)") from err
        raise
    return path


def read_checked(path: str | os.PathLike, sha256: str | None, what: str = "file", fix: str = "") -> bytes:
    """The bytes of ``path``, refused unless their sha256 is ``sha256`` (when given).

    Args:
        path: the file.
        sha256: the expected hash (hex), or ``None`` to read unchecked.
        what: what the file is, for messages ("model").
        fix: what to do about a mismatch, appended to the message.

    Returns:
        The file's contents.

    Raises:
        FileNotFoundError: no such file (naming it).
        ValueError: the hash differs; the message names the file and both hashes.

    Example:
        >>> read_checked("/etc/hostname", None)   # doctest: +SKIP
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no {what} file at '{path}'" + (f"; {fix}" if fix else ""))
    data = path.read_bytes()
    if sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256.lower():
            raise ValueError(f"{what} file '{path}' has sha256 {actual}, expected {sha256}: it was changed or "
                             "damaged, so it is not loaded" + (f"; {fix}" if fix else ""))
    return data
