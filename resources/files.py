"""Files that appear whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    # Linux shows it. Elsewhere the only way to read it is to set it (once, at import): to
    # 077, so a file another thread creates in that instant is private, never open to all.
    with contextlib.suppress(OSError, StopIteration, ValueError), \
            open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


# What open() gives a new file. mkstemp's files are 0600: a report or a cached statement
# written through it would be unreadable by the other users a plain write lets read it.
_NEW_FILE_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_file(path: Path, mode: int | None = None) -> Iterator[BinaryIO]:
    """A binary file that replaces ``path`` when the block ends without an error, with
    permissions ``mode`` (default: those of a file open() creates); on an error ``path`` is
    left as it was.

    Each writer gets a temporary name of its own in ``path``'s folder: two writers of one
    path (two threads, two runs) never write into the same file, so a reader sees one
    whole version or the other. The name is short (``.tmp-XXXXXXXX``): a prefix made of a
    250-character object name would pass NAME_MAX (255)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.chmod(tmp, _NEW_FILE_MODE if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through :func:`atomic_file`."""
    with atomic_file(path) as fh:
        fh.write(data)
    return path
