"""Object stores: one bucket each, a local folder on the embedded default, GCS in production.

Both implement the same small interface (list by prefix with time/size/md5/generation,
read, write, copy, delete), so ingestion and sensors never know which one they talk to.
Every key is validated by :func:`resources.keys.validate_key` before it reaches a path or
an object name. Listing returns keys as stored, even invalid ones, so that callers can
record (rather than silently skip) badly named objects.

Reading, copying and deleting take an optional ``generation``: the version the caller
listed. The call then acts on that version only and raises :class:`ObjectChangedError`
when the object was overwritten or deleted since (GCS: generation preconditions; a local
folder: checks on the open file, and a rename-aside delete, see
:meth:`LocalObjectStore.delete`). Nothing but the version that was read is ever moved.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime as dt
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import dagster as dg
from pydantic import PrivateAttr

from resources.files import atomic_file
from resources.keys import InvalidKeyError, validate_key

log = logging.getLogger(__name__)

_LISTED: collections.Counter[str] = collections.Counter()
_LISTED_LOCK = threading.Lock()


@dataclass(frozen=True)
class ObjectInfo:
    """What a listing tells about one object."""

    key: str
    size: int
    md5: str | None  # lower-case hex digest of the content
    generation: str  # changes whenever the object is overwritten
    updated: dt.datetime  # UTC; dates undated inbox objects (local: the file's mtime)
    # Local folders: the inode change time. `cp -p` and rsync restore an old mtime on a file
    # they are still writing; ctime still says when it last changed. None on GCS.
    changed: dt.datetime | None = None


class ObjectChangedError(Exception):
    """The object is no longer the version the caller read: overwritten or deleted."""

    def __init__(self, key: str, expected: str, current: str | None) -> None:
        self.key, self.expected, self.current = key, expected, current
        now = "deleted" if current is None else f"now generation {current}"
        super().__init__(f"{key}: generation {expected} was read, the object is {now}")


@dataclass(frozen=True)
class FolderListing:
    """One level of a bucket: the objects directly in a folder and its sub-folders."""

    objects: list[ObjectInfo]
    prefixes: list[str]  # each ends in '/'


class ObjectStore(dg.ConfigurableResource):
    """Interface shared by :class:`LocalObjectStore` and :class:`GCSObjectStore`."""

    @property
    def objects_listed(self) -> int:
        """Objects returned by listings of this bucket in this process: lets tests and
        benchmarks assert that a sensor tick lists only what it must. Counted per bucket
        URI, because Dagster hands each evaluation its own copy of a resource."""
        return _LISTED[self.uri()]

    def _count_listed(self, n: int = 1) -> None:
        with _LISTED_LOCK:  # listings may run in threads (the inbox sensor's)
            _LISTED[self.uri()] += n

    def uri(self, key: str = "") -> str:
        raise NotImplementedError

    def list(self, prefix: str = "", *, page_size: int | None = None,
             recursive: bool = True, checksums: bool = True,
             start_offset: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in key order.

        ``recursive=False`` lists only objects directly under the folder ``prefix`` names
        (no '/' after it), like a GCS listing with delimiter '/'. ``checksums=False`` may
        leave ``md5`` unset where computing it costs a read (local folders).
        ``start_offset`` skips keys that sort before it, without listing them (GCS
        ``startOffset``; a local folder does not descend into folders wholly before it).
        """
        raise NotImplementedError

    def list_folder(self, prefix: str = "", *, page_size: int | None = None,
                    checksums: bool = True) -> FolderListing:
        """One delimiter listing of the folder ``prefix`` (``''`` or ending in '/')."""
        raise NotImplementedError

    def list_prefixes(self, prefix: str = "") -> list[str]:
        """The 'folders' directly under ``prefix`` (each ending in '/'), sorted."""
        return self.list_folder(prefix, checksums=False).prefixes

    def stat(self, key: str) -> ObjectInfo | None:
        raise NotImplementedError

    def unsettled(self, info: ObjectInfo, now: dt.datetime) -> bool:
        """True while the object may still be being written: not to be taken yet."""
        return False

    def read_bytes(self, key: str) -> bytes:
        raise NotImplementedError

    def open(self, key: str) -> BinaryIO:
        """A binary stream over the object, for reading large objects without loading them."""
        raise NotImplementedError

    @contextlib.contextmanager
    def local_copy(self, key: str, generation: str | None = None) -> Iterator[Path]:
        """A local file with the object's content, for readers that need a path.

        With ``generation``: that version's content, else :class:`ObjectChangedError`."""
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / Path(key).name
            self.download_file(key, local, generation)
            yield local

    def write_bytes(self, key: str, data: bytes) -> ObjectInfo:
        raise NotImplementedError

    def upload_file(self, key: str, path: str | os.PathLike) -> ObjectInfo:
        raise NotImplementedError

    def download_file(self, key: str, path: str | os.PathLike,
                      generation: str | None = None) -> None:
        raise NotImplementedError

    def delete(self, key: str, generation: str | None = None) -> bool:
        """Delete ``key``; False when it did not exist. With ``generation``, only that
        version: :class:`ObjectChangedError` (and nothing deleted) if it was overwritten."""
        raise NotImplementedError

    def copy_to(self, key: str, dest: ObjectStore, dest_key: str | None = None,
                generation: str | None = None) -> ObjectInfo:
        """Copy an object into another store (e.g. inbox -> archive); with ``generation``,
        only that version (else :class:`ObjectChangedError`, nothing written)."""
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "object"
            self.download_file(key, local, generation)
            return dest.upload_file(dest_key or key, local)

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None


# ------------------------------------------------------------------------------------------
# Local folder
# ------------------------------------------------------------------------------------------

# mkstemp creates 0600 files; objects should get the usual mode under the process umask.
_UMASK = os.umask(0)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK

_MD5_CACHE: dict[tuple[str, int, str], str] = {}
_MD5_CACHE_MAX = 100_000


def _generation(st: os.stat_result) -> str:
    # os.replace gives every write a new inode, so (inode, mtime, ctime) changes on overwrite
    # even where the filesystem's timestamps are coarse.
    return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_ctime_ns}"


def _same_version(key: str, st: os.stat_result, generation: str) -> None:
    if _generation(st) != generation:
        raise ObjectChangedError(key, generation, _generation(st))


def _file_md5(path: Path, st: os.stat_result) -> str:
    cache_key = (str(path), st.st_size, _generation(st))
    cached = _MD5_CACHE.get(cache_key)
    if cached is None:
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        cached = digest.hexdigest()
        if len(_MD5_CACHE) >= _MD5_CACHE_MAX:
            _MD5_CACHE.clear()
        _MD5_CACHE[cache_key] = cached
    return cached


class LocalObjectStore(ObjectStore):
    """A bucket that is a folder. Writes are atomic (temp file + rename).

    Hidden files (names starting with '.') are ignored: they are this store's temp files.
    ``settle_s``: a file changed less than this many seconds ago may still be being
    written (a plain ``cp`` into the folder), see :meth:`unsettled`.
    """

    root: str
    settle_s: float = 0.0

    def _root(self) -> Path:
        return Path(self.root).expanduser().absolute()

    def _path(self, key: str) -> Path:
        root = self._root()
        path = root / validate_key(key)
        # A symlink inside the bucket must not lead outside it.
        if not path.resolve().is_relative_to(root.resolve()):
            raise InvalidKeyError(f"object key {key!r} resolves outside the bucket")
        return path

    def uri(self, key: str = "") -> str:
        return (self._root() / key).as_uri() if key else self._root().as_uri()

    def _info(self, key: str, path: Path, st: os.stat_result,
              checksums: bool = True) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=st.st_size,
            md5=_file_md5(path, st) if checksums else None,
            generation=_generation(st),
            updated=dt.datetime.fromtimestamp(st.st_mtime, tz=dt.UTC),
            changed=dt.datetime.fromtimestamp(st.st_ctime, tz=dt.UTC),
        )

    def unsettled(self, info: ObjectInfo, now: dt.datetime) -> bool:
        """True while the object may still be being written: not to be taken yet.

        A folder has no "upload complete" event: a file is taken once neither its mtime
        nor its ctime moved for ``settle_s`` seconds. An mtime in the future (``touch -d``)
        is ignored, else the file would never settle; ctime is set by the kernel.
        """
        if self.settle_s <= 0:
            return False
        latest = info.changed or info.updated
        if info.updated <= now:
            latest = max(latest, info.updated)
        return (now - latest).total_seconds() < self.settle_s

    def list(self, prefix: str = "", *, page_size: int | None = None,
             recursive: bool = True, checksums: bool = True,
             start_offset: str = "") -> Iterator[ObjectInfo]:
        validate_key(prefix, allow_prefix=True)
        root = self._root()
        # Walk only the deepest folder the prefix names, never the whole bucket.
        folder_part = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = root / folder_part if folder_part else root
        if not start.is_dir() or not start.resolve().is_relative_to(root.resolve()):
            return
        stack = [start]
        found: list[tuple[str, Path]] = []
        while stack:
            current = stack.pop()
            with os.scandir(current) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    rel = Path(entry.path).relative_to(root).as_posix()
                    if entry.is_dir(follow_symlinks=False):
                        if not recursive and (rel + "/").startswith(prefix):
                            continue
                        # Every key under rel/ sorts before start_offset: skip the folder.
                        if rel + "/" < start_offset and not start_offset.startswith(rel + "/"):
                            continue
                        if (rel + "/").startswith(prefix) or prefix.startswith(rel + "/"):
                            stack.append(Path(entry.path))
                    elif (entry.is_file(follow_symlinks=False) and rel.startswith(prefix)
                          and rel >= start_offset):
                        # Symlinks are neither walked nor listed: they could lead outside.
                        found.append((rel, Path(entry.path)))
        for rel, path in sorted(found):
            try:
                st = path.stat()
            except FileNotFoundError:  # deleted while listing
                continue
            self._count_listed()
            yield self._info(rel, path, st, checksums)

    def list_folder(self, prefix: str = "", *, page_size: int | None = None,
                    checksums: bool = True) -> FolderListing:
        folder = self._folder(prefix)
        if folder is None:
            return FolderListing([], [])
        files, prefixes = [], []
        with os.scandir(folder) as entries:
            for e in entries:
                if e.name.startswith("."):
                    continue
                if e.is_dir(follow_symlinks=False):
                    prefixes.append(f"{prefix}{e.name}/")
                elif e.is_file(follow_symlinks=False):
                    files.append((f"{prefix}{e.name}", Path(e.path)))
        objects = []
        for key, path in sorted(files):
            try:
                objects.append(self._info(key, path, path.stat(), checksums))
                self._count_listed()
            except FileNotFoundError:  # deleted while listing
                continue
        return FolderListing(objects, sorted(prefixes))

    def _folder(self, prefix: str) -> Path | None:
        validate_key(prefix, allow_prefix=True)
        if prefix and not prefix.endswith("/"):
            raise ValueError("a folder prefix must be '' or end in '/'")
        root = self._root()
        folder = root / prefix if prefix else root
        if not folder.is_dir() or not folder.resolve().is_relative_to(root.resolve()):
            return None
        return folder

    def stat(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return self._info(key, path, st) if path.is_file() else None

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    @contextlib.contextmanager
    def local_copy(self, key: str, generation: str | None = None) -> Iterator[Path]:
        path = self._path(key)  # already a local file: no copy
        if generation is None:
            yield path
            return
        self._check_version(key, path, generation)
        try:
            yield path
        except Exception:
            # A read that failed on an object that changed meanwhile is a change, not a
            # bad object.
            self._check_version(key, path, generation)
            raise
        # The path was read, not an open file: an overwrite during the read shows here.
        self._check_version(key, path, generation)

    def _check_version(self, key: str, path: Path, generation: str) -> None:
        try:
            st = path.stat()
        except FileNotFoundError:
            raise ObjectChangedError(key, generation, None) from None
        _same_version(key, st, generation)

    @contextlib.contextmanager
    def _open_version(self, key: str, generation: str) -> Iterator[BinaryIO]:
        """The file of version ``generation``, open: what is read from it is that version
        even if the key is replaced meanwhile (os.replace leaves the open inode alone)."""
        try:
            fd = os.open(self._path(key), os.O_RDONLY)
        except FileNotFoundError:
            raise ObjectChangedError(key, generation, None) from None
        with os.fdopen(fd, "rb") as fh:
            _same_version(key, os.fstat(fh.fileno()), generation)
            yield fh

    @staticmethod
    def _copy_version(key: str, src: BinaryIO, dst: BinaryIO, generation: str) -> None:
        shutil.copyfileobj(src, dst, 1 << 20)
        # Written in place (same inode) during the copy: the copy may be torn.
        _same_version(key, os.fstat(src.fileno()), generation)

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def _atomic_place(self, key: str, write) -> ObjectInfo:
        with atomic_file(self._path(key), _FILE_MODE) as fh:
            write(fh)
        info = self.stat(key)
        assert info is not None
        return info

    def write_bytes(self, key: str, data: bytes) -> ObjectInfo:
        return self._atomic_place(key, lambda fh: fh.write(data))

    def upload_file(self, key: str, path: str | os.PathLike) -> ObjectInfo:
        def copy(fh: BinaryIO) -> None:
            with open(path, "rb") as src:
                shutil.copyfileobj(src, fh, 1 << 20)

        return self._atomic_place(key, copy)

    def download_file(self, key: str, path: str | os.PathLike,
                      generation: str | None = None) -> None:
        if generation is None:
            shutil.copyfile(self._path(key), path)
            return
        with self._open_version(key, generation) as src, open(path, "wb") as dst:
            self._copy_version(key, src, dst, generation)

    def delete(self, key: str, generation: str | None = None) -> bool:
        """Delete ``key``; with ``generation``, only if it still is that version.

        Check-then-unlink would race a writer replacing the file in between. Instead the
        file is renamed aside (atomic: whatever is at the key then is what moves), the
        moved file is compared with the version checked (inode, mtime, size: a rename
        changes ctime), and put back if it is another one.
        """
        path = self._path(key)
        if generation is None:
            try:
                path.unlink()
            except FileNotFoundError:
                return False
            return True
        try:
            st = path.stat()
        except FileNotFoundError:
            return False
        _same_version(key, st, generation)
        aside = path.with_name(f".del-{os.urandom(6).hex()}")  # hidden: never listed
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return False
        moved = aside.stat()
        if (moved.st_ino, moved.st_mtime_ns, moved.st_size) == (
                st.st_ino, st.st_mtime_ns, st.st_size):
            aside.unlink()
            return True
        try:  # link, not rename: never clobber an even newer version written since
            os.link(aside, path)
        except FileExistsError:
            log.warning("%s was overwritten twice while being deleted; the newest version "
                        "stays", key)
        aside.unlink()
        raise ObjectChangedError(key, generation, _generation(moved))

    def copy_to(self, key: str, dest: ObjectStore, dest_key: str | None = None,
                generation: str | None = None) -> ObjectInfo:
        if generation is None:
            return dest.upload_file(dest_key or key, self._path(key))
        if not isinstance(dest, LocalObjectStore):
            return super().copy_to(key, dest, dest_key, generation)
        with self._open_version(key, generation) as src:
            # A failed check inside the write leaves nothing at the destination.
            return dest._atomic_place(
                dest_key or key, lambda dst: self._copy_version(key, src, dst, generation))


# ------------------------------------------------------------------------------------------
# Google Cloud Storage
# ------------------------------------------------------------------------------------------


class GCSObjectStore(ObjectStore):
    """A GCS bucket (optionally a prefix inside it).

    ``endpoint`` (or the ``STORAGE_EMULATOR_HOST`` variable) points the client at another
    GCS API, such as fake-gcs-server in tests; credentials are then anonymous.
    """

    bucket: str
    prefix: str = ""
    project: str | None = None
    endpoint: str | None = None

    _client = PrivateAttr(default=None)

    def _gcs(self):
        if self._client is None:
            from google.cloud import storage

            endpoint = self.endpoint or os.environ.get("STORAGE_EMULATOR_HOST")
            if endpoint:
                from google.auth.credentials import AnonymousCredentials

                self._client = storage.Client(
                    project=self.project or "test-project",
                    credentials=AnonymousCredentials(),
                    client_options={"api_endpoint": endpoint},
                )
            else:  # production: dagster-gcp's client factory (Application Default Credentials)
                from dagster_gcp import GCSResource

                self._client = GCSResource(project=self.project).get_client()
        return self._client

    def _bucket(self):
        return self._gcs().bucket(self.bucket)

    def _name(self, key: str) -> str:
        return self._base() + validate_key(key)

    def _base(self) -> str:
        if not self.prefix:
            return ""
        validate_key(self.prefix, allow_prefix=True)
        return self.prefix if self.prefix.endswith("/") else self.prefix + "/"

    def uri(self, key: str = "") -> str:
        return f"gs://{self.bucket}/{self._base()}{key}"

    def _info(self, blob) -> ObjectInfo:
        md5 = base64.b64decode(blob.md5_hash).hex() if blob.md5_hash else None
        updated = blob.updated or blob.time_created or dt.datetime.now(dt.UTC)
        return ObjectInfo(key=blob.name[len(self._base()):], size=int(blob.size or 0), md5=md5,
                          generation=str(blob.generation), updated=updated.astimezone(dt.UTC))

    def list(self, prefix: str = "", *, page_size: int | None = None,
             recursive: bool = True, checksums: bool = True,
             start_offset: str = "") -> Iterator[ObjectInfo]:
        validate_key(prefix, allow_prefix=True)
        blobs = self._gcs().list_blobs(self.bucket, prefix=self._base() + prefix,
                                       page_size=page_size,
                                       delimiter=None if recursive else "/",
                                       start_offset=(self._base() + start_offset
                                                     if start_offset else None))
        for blob in blobs:  # the iterator fetches page after page
            self._count_listed()
            yield self._info(blob)

    def list_folder(self, prefix: str = "", *, page_size: int | None = None,
                    checksums: bool = True) -> FolderListing:
        validate_key(prefix, allow_prefix=True)
        if prefix and not prefix.endswith("/"):
            raise ValueError("a folder prefix must be '' or end in '/'")
        it = self._gcs().list_blobs(self.bucket, prefix=self._base() + prefix,
                                    delimiter="/", page_size=page_size)
        objects = [self._info(blob) for page in it.pages for blob in page]
        self._count_listed(len(objects))
        base = len(self._base())  # prefixes accumulate as pages are fetched
        return FolderListing(objects, sorted(p[base:] for p in it.prefixes))

    def stat(self, key: str) -> ObjectInfo | None:
        blob = self._bucket().get_blob(self._name(key))
        return self._info(blob) if blob is not None else None

    def read_bytes(self, key: str) -> bytes:
        return self._bucket().blob(self._name(key)).download_as_bytes()

    def open(self, key: str) -> BinaryIO:
        return self._bucket().blob(self._name(key)).open("rb")

    def write_bytes(self, key: str, data: bytes) -> ObjectInfo:
        blob = self._bucket().blob(self._name(key))
        blob.upload_from_string(data)
        return self._info(self._bucket().get_blob(blob.name))

    def upload_file(self, key: str, path: str | os.PathLike) -> ObjectInfo:
        blob = self._bucket().blob(self._name(key))
        blob.upload_from_filename(str(path))
        return self._info(self._bucket().get_blob(blob.name))

    def unsettled(self, info: ObjectInfo, now: dt.datetime) -> bool:
        """Never: a GCS object appears only once its upload completed."""
        return False

    def _changed(self, key: str, generation: str) -> ObjectChangedError:
        current = self.stat(key)
        return ObjectChangedError(key, generation, current.generation if current else None)

    def download_file(self, key: str, path: str | os.PathLike,
                      generation: str | None = None) -> None:
        from google.api_core.exceptions import NotFound, PreconditionFailed

        if generation is None:
            self._bucket().blob(self._name(key)).download_to_filename(str(path))
            return
        # Read that generation itself (404 once it is overwritten, unless the bucket keeps
        # versions: then it is still that version). fake-gcs-server ignores
        # ifGenerationMatch on reads but honours the generation parameter.
        blob = self._bucket().blob(self._name(key), generation=int(generation))
        try:
            blob.download_to_filename(str(path))
        except (NotFound, PreconditionFailed):
            raise self._changed(key, generation) from None

    def delete(self, key: str, generation: str | None = None) -> bool:
        from google.api_core.exceptions import NotFound, PreconditionFailed

        blob = self._bucket().blob(self._name(key))
        try:
            if generation is None:
                blob.delete()
                return True
            # fake-gcs-server ignores ifGenerationMatch (and generation) on DELETE: it deletes
            # the live object whatever the generation, so look first (one metadata GET); on
            # GCS the precondition closes the race between the look and the delete.
            current = self.stat(key)
            if current is None:
                return False
            if current.generation != generation:
                raise ObjectChangedError(key, generation, current.generation)
            blob.delete(if_generation_match=int(generation))
        except NotFound:
            return False
        except PreconditionFailed:
            raise self._changed(key, generation) from None
        return True

    def copy_to(self, key: str, dest: ObjectStore, dest_key: str | None = None,
                generation: str | None = None) -> ObjectInfo:
        if not isinstance(dest, GCSObjectStore):
            return super().copy_to(key, dest, dest_key, generation)
        from google.api_core.exceptions import NotFound, PreconditionFailed

        src_bucket = self._bucket()
        blob = src_bucket.blob(self._name(key))
        # The generation read is copied, or none: 404 once it is overwritten (unversioned
        # bucket). fake-gcs-server ignores ifSourceGenerationMatch but honours this.
        options = {} if generation is None else {"source_generation": int(generation)}
        try:
            new = src_bucket.copy_blob(blob, dest._bucket(), dest._name(dest_key or key),
                                       **options)
        except (NotFound, PreconditionFailed):
            if generation is None:
                raise
            raise self._changed(key, generation) from None
        return dest._info(dest._bucket().get_blob(new.name))


def store_for_uri(uri: str) -> ObjectStore:
    """An object store for a folder path or a ``gs://bucket[/prefix]`` URI."""
    if uri.startswith("gs://"):
        bucket, _, prefix = uri[len("gs://"):].partition("/")
        if not bucket:
            raise ValueError(f"{uri!r} names no bucket")
        return GCSObjectStore(bucket=bucket, prefix=prefix.strip("/"))
    return LocalObjectStore(root=str(Path(uri).expanduser().absolute()))
