"""A text cache on disk under ``ECOMMERCE_HOME/cache/<kind>/``, for what every run process
would otherwise compute again from the code (transpiled SQL, column lineage)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable

from resources import settings
from resources.files import write_atomically


def cached_text(kind: str, key: str, compute: Callable[[], str], suffix: str = "") -> str:
    """The text stored for ``key`` (any string that changes whenever the answer would), else
    ``compute()``, stored atomically. A cache, never a failure: unreadable or unwritable
    files only mean computing again."""
    path = (settings.ecommerce_home() / "cache" / kind
            / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}{suffix}")
    with contextlib.suppress(OSError):
        return path.read_text()
    text = compute()
    with contextlib.suppress(OSError):
        # Two threads may store one key at once (a step computes its next table in a
        # worker thread): each writes a file of its own (atomic_file), so neither can
        # read the other's half-written statement.
        write_atomically(path, text.encode())
    return text
