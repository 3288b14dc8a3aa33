"""A text cache on disk under ``ECOMMERCE_HOME/cache/<kind>/``, for what every run process
would otherwise compute again from the code (transpiled SQL, column lineage)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable

from resources import settings


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
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(text)
        partial.replace(path)
    return text
