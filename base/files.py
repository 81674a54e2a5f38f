"""Files that hold person data: created 0600 (owner only) in 0700 directories.

    private_dir(path) -> Path          make `path` and its missing parents, 0700
    open_private(path, mode="w", ...)  open for writing; the file is 0600 whether new or not
    write_private(path, mode="w", ...) context manager: write beside, then rename over `path`
                                       (a crash never leaves half a file), 0600

Modes are given to os.open / os.mkdir, so the process umask can only take bits away; a file
that exists is tightened to 0600 (one written 0644 by an earlier version). A directory that
exists is left as it is: it may be shared (/tmp, a working directory), and what it holds is 0600
anyway; `chmod 700` an old data directory once.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
_FLAGS = {"w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC, "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
          "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL}


def private_dir(path: str | os.PathLike) -> Path:
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for p in reversed(missing):
        p.mkdir(mode=DIR_MODE, exist_ok=True)
    return path


def open_private(path: str | os.PathLike, mode: str = "w", **kwargs):
    """`open(path, mode, **kwargs)` for writing ("w", "a", "x", with "b" for bytes), file 0600."""
    path = Path(path)
    private_dir(path.parent)
    fd = os.open(path, _FLAGS[mode.replace("b", "")[0]], FILE_MODE)
    try:
        if os.fstat(fd).st_mode & 0o777 != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


@contextmanager
def write_private(path: str | os.PathLike, mode: str = "w", **kwargs):
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open_private(tmp, mode, **kwargs) as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def fsync_dir(path: str | os.PathLike) -> None:
    """Make a rename or a new file in `path` durable: fsync the directory itself."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
