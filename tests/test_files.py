"""Files that appear whole or not at all (resources/files.py) and the disk cache on it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from resources.files import atomic_file, write_atomically


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = write_atomically(tmp_path / "report.svg", b"old")
    with pytest.raises(RuntimeError), atomic_file(path) as fh:
        fh.write(b"half of the new")
        raise RuntimeError("the writer died")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.svg"]


def test_a_file_gets_the_permissions_a_plain_write_gives(tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"x")
    written = write_atomically(tmp_path / "atomic", b"x")
    assert written.stat().st_mode == (tmp_path / "plain").stat().st_mode  # not mkstemp's 0600
    with atomic_file(tmp_path / "store", 0o640) as fh:
        fh.write(b"x")
    assert (tmp_path / "store").stat().st_mode & 0o777 == 0o640


def test_threads_storing_one_cache_key_never_read_a_partial_text(
        ecommerce_home: Path) -> None:
    """Four threads compute and store the same new key at once, sixty times. With one
    temporary file per process (as before), a thread that came late read the file another
    had renamed into place while a third was still writing into it: empty or cut SQL
    (3 of 5 runs failed)."""
    from resources.disk_cache import cached_text

    text = "SELECT 1;\n" * 400_000  # 4 MB: each write takes a while
    got: list[int] = []
    barrier = threading.Barrier(4)

    def writer() -> None:
        for round_ in range(60):
            barrier.wait()
            got.append(len(cached_text("race", f"k{round_}", lambda: text, ".sql")))

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 240 and set(got) == {len(text)}, sorted(set(got))[:5]
    assert len(list((ecommerce_home / "cache" / "race").iterdir())) == 60  # no temporaries
