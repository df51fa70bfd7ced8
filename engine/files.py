"""Atomic file writes: the one way every part of Anchorworld replaces a file on disk.

A reader never sees a half-written file and a failed write never destroys the old one: the data
goes to a temp file in the same folder, is fsynced, then renamed over the target (``os.replace``),
and the folder is fsynced so the rename itself survives a crash.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: str | os.PathLike[str], data: bytes, *, make_parents: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, rename, fsync folder).

    ``make_parents`` creates missing parent folders (otherwise a missing folder is an OSError).
    The new file gets the usual permissions (0666 less the umask).
    On any error the temp file is removed and the exception propagates; the old file is untouched.
    """
    p = Path(path)
    d = p.parent if str(p.parent) else Path(".")
    if make_parents:
        d.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=d)
    try:
        um = os.umask(0)
        os.umask(um)
        os.fchmod(fd, 0o666 & ~um)  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def read_input(path: str | os.PathLike[str], what: str) -> bytes:
    """The bytes of a user's input file; a missing or unreadable one is an ``InputError`` naming it.

    what: the kind of file, for the message ("save file", "level file", ...).
    """
    from engine.errors import InputError

    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(str(path), "", f"a readable {what} ({exc.strerror or exc})") from None
