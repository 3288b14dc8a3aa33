"""What is new in the inbox: the planning half of the inbox sensor, free of Dagster.

The inbox layout is ``{table}/date=YYYY-MM-DD/{file}`` (also ``{table}/{file}``, dated by its
upload day). A tick costs what is new, not what is stored:

* one delimiter listing of the bucket root and one per table folder return folder names
  (``date=…/``) and undated objects, never the objects inside the date folders;
* only the date folders from the newest landing day minus a short lookback are listed
  object by object (paginated). Older folders are listed only while their bronze partition
  has never been materialized (a late first landing);
* the cursor keeps ``key -> generation`` for the objects of those recent folders, so many
  objects with the same timestamp, overwrites (new generation) and deletions or archival
  (the key disappears, which is never a reason to run) are all exact.

Everything that cannot be routed to a ``bronze/<table>`` partition (an unknown top folder,
a folder that is not ``date=YYYY-MM-DD``, a day before the first partition, an object at the
bucket root) becomes a :class:`Reject` with its reason, recorded once per generation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ecommerce_assets.formats import FIRST_LANDING_DATE
from resources.keys import InvalidKeyError
from resources.object_store import ObjectInfo, ObjectStore

CURSOR_VERSION = 1
_DATE_FOLDER = re.compile(r"^date=(\d{4}-\d{2}-\d{2})/$")
FIRST_DAY = dt.date.fromisoformat(FIRST_LANDING_DATE)


@dataclass
class InboxCursor:
    """The sensor's memory between ticks, stored by Dagster as JSON."""

    high_water: str | None = None  # newest landing day seen (ISO date)
    seen: dict[str, str] = field(default_factory=dict)  # key -> generation, recent folders
    rejected: dict[str, str] = field(default_factory=dict)  # key -> generation, recorded
    discovered_at: str | None = None  # last discovery listing (ISO timestamp)

    def to_json(self) -> str:
        return json.dumps({"v": CURSOR_VERSION, **dataclasses.asdict(self)},
                          sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> InboxCursor | None:
        """The stored cursor, or None for a first tick (or a cursor of another version)."""
        if not text:
            return None
        data = json.loads(text)
        if data.pop("v", None) != CURSOR_VERSION:
            return None
        return cls(**data)


@dataclass(frozen=True)
class Reject:
    """An inbox object (or an unreadable folder) that no bronze partition can take."""

    key: str
    generation: str
    size: int
    updated: str  # ISO timestamp
    reason: str


@dataclass
class TickPlan:
    # landing day -> table -> the new objects of that partition
    partitions: dict[dt.date, dict[str, list[ObjectInfo]]]
    rejects: list[Reject]
    cursor: InboxCursor
    deferred: list[str]  # folders of days that have no partition yet (future dates)

    def run_key(self, day: dt.date) -> str:
        """Same new objects -> same key: a repeated tick never launches a second run."""
        objects = [o for group in self.partitions[day].values() for o in group]
        return f"inbox-{day.isoformat()}-{_digest(objects)}"

    def rejects_run_key(self) -> str:
        return f"inbox-rejects-{_digest(self.rejects)}"


def _digest(items: Iterable[ObjectInfo | Reject]) -> str:
    """A short hash of a set of (key, generation) pairs, whatever their order."""
    text = "\n".join(sorted(f"{o.key}\t{o.generation}" for o in items))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


# (table, day) -> {inbox key: generation} of the objects its latest bronze materialization
# read (the bronze assets record them in their metadata).
Ingested = Callable[[str, dt.date], dict[str, str]]
# table -> landing days with a bronze materialization.
Materialized = Callable[[str], set[dt.date]]


def plan_tick(store: ObjectStore, cursor: InboxCursor | None, *, tables: Iterable[str],
              now: dt.datetime, lookback_days: int, page_size: int, discovery_s: int,
              materialized: Materialized, ingested: Ingested) -> TickPlan:
    """List what may be new and compare it with ``cursor``; pure apart from the listings.

    Every tick makes one listing per table, from the first day of the window on
    (``start_offset``). A *discovery* tick (the first one, then every ``discovery_s``
    seconds) also lists the bucket root and each table folder with a delimiter, which
    finds unknown folders, undated objects and late first landings on older days.
    """
    tables = sorted(set(tables))
    first_tick = cursor is None
    cursor = cursor or InboxCursor()
    today = now.astimezone(dt.UTC).date()
    last_day = today  # the daily partitions end today (end_offset=1), in UTC
    discover = first_tick or cursor.discovered_at is None or (
        now - dt.datetime.fromisoformat(cursor.discovered_at)).total_seconds() >= discovery_s
    known = dt.date.fromisoformat(cursor.high_water) if cursor.high_water else None
    window_start = (known or today) - dt.timedelta(days=lookback_days)

    listed = _list_recent(store, tables, window_start, page_size)
    rejects: dict[str, Reject] = {}
    if discover:
        _discover(store, tables, window_start, page_size, materialized, listed, rejects)
    routed, deferred = _route(listed, last_day, rejects)

    days = [day for _, day in routed.values()]
    high_water = max([*days, *([known] if known else [])], default=None)

    partitions: dict[dt.date, dict[str, list[ObjectInfo]]] = {}
    by_partition: dict[tuple[str, dt.date], list[ObjectInfo]] = {}
    for key, (table, day) in routed.items():
        if cursor.seen.get(key) != listed[key].generation:
            by_partition.setdefault((table, day), []).append(listed[key])
    for (table, day), objects in sorted(by_partition.items()):
        if first_tick:  # no memory yet: skip what a run already read (e.g. `make dev`'s)
            done = ingested(table, day)
            objects = [o for o in objects if done.get(o.key) != o.generation]
        if objects:
            partitions.setdefault(day, {})[table] = sorted(objects, key=lambda o: o.key)

    # The new cursor: every routed object listed now (requested or not, so a day whose
    # tables are still being ingested is never requested again with a smaller set), plus
    # what this tick did not list because it lies before the listed range.
    def before_range(key: str) -> bool:
        table = key.partition("/")[0]
        return not discover and key < f"{table}/date={window_start.isoformat()}/"

    seen = {k: g for k, g in cursor.seen.items() if k not in listed and before_range(k)}
    seen.update((k, listed[k].generation) for k in routed)
    recorded = {} if discover else {k: g for k, g in cursor.rejected.items()
                                    if k not in listed}
    recorded.update((r.key, r.generation) for r in rejects.values())
    return TickPlan(
        partitions=dict(sorted(partitions.items())),
        rejects=sorted((r for r in rejects.values()
                        if cursor.rejected.get(r.key) != r.generation), key=lambda r: r.key),
        cursor=InboxCursor(high_water=high_water.isoformat() if high_water else None,
                           seen=seen, rejected=recorded,
                           discovered_at=now.isoformat() if discover else cursor.discovered_at),
        deferred=sorted(deferred),
    )


def _list_objects(store: ObjectStore, prefix: str, page_size: int,
                  start_offset: str = "") -> list[ObjectInfo]:
    return list(store.list(prefix, page_size=page_size, checksums=False,
                           start_offset=start_offset))


def _list_recent(store: ObjectStore, tables: list[str], window_start: dt.date,
                 page_size: int) -> dict[str, ObjectInfo]:
    """Every table's objects from the window's first day on (plus what sorts after it).

    The listings are independent round trips, so they run concurrently: a tick costs about
    one listing's latency, not seven.
    """
    def recent(table: str) -> list[ObjectInfo]:
        return _list_objects(store, f"{table}/", page_size,
                             start_offset=f"{table}/date={window_start.isoformat()}/")

    with ThreadPoolExecutor(max_workers=len(tables) or 1) as pool:
        return {o.key: o for objects in pool.map(recent, tables) for o in objects}


def _reject(rejects: dict[str, Reject], o: ObjectInfo, reason: str) -> None:
    rejects[o.key] = Reject(o.key, o.generation, o.size, o.updated.isoformat(), reason)


def _discover(store: ObjectStore, tables: list[str], window_start: dt.date, page_size: int,
              materialized: Materialized, listed: dict[str, ObjectInfo],
              rejects: dict[str, Reject]) -> None:
    """One delimiter level of the bucket root and of each table folder: unknown folders and
    root objects (rejects), undated objects and the old days never ingested (into listed)."""
    with ThreadPoolExecutor(max_workers=len(tables) + 1) as pool:
        root_listing = pool.submit(store.list_folder, "", page_size=page_size,
                                   checksums=False)
        levels = dict(zip(tables, pool.map(lambda t: store.list_folder(
            f"{t}/", page_size=page_size, checksums=False), tables), strict=True))
        root = root_listing.result()
    for o in root.objects:
        _reject(rejects, o, "object at the bucket root: files land under "
                            "{table}/date=YYYY-MM-DD/")
    for prefix in root.prefixes:
        if prefix[:-1] in tables:
            continue
        reason = f"unknown table folder {prefix!r} (expected one of {', '.join(tables)})"
        try:
            for o in _list_objects(store, prefix, page_size):
                _reject(rejects, o, reason)
        except InvalidKeyError:  # a folder name we cannot even list safely
            rejects[prefix] = Reject(prefix, "folder", 0, "", (
                f"{reason}, not listed: its name is not a valid object key"))
    for table, level in levels.items():
        listed.update((o.key, o) for o in level.objects)  # undated objects
        done = None  # materialized days of this table, fetched only when needed
        for sub in level.prefixes:
            day = _folder_day(sub[len(table) + 1:])
            if day is not None and FIRST_DAY <= day < window_start:
                done = materialized(table) if done is None else done
                if day in done:
                    continue  # an old, ingested day: only a backfill reads it again
            if day is None or day < window_start:  # bad folders and late first landings
                listed.update((o.key, o) for o in _list_objects(store, sub, page_size))


def _route(listed: dict[str, ObjectInfo], last_day: dt.date, rejects: dict[str, Reject]
           ) -> tuple[dict[str, tuple[str, dt.date]], set[str]]:
    """Each listed object -> its (table, landing day), a reject, or a folder that waits for
    its day's partition."""
    routed: dict[str, tuple[str, dt.date]] = {}
    deferred: set[str] = set()
    for key, o in listed.items():
        table, _, rest = key.partition("/")
        folder, slash, _ = rest.partition("/")
        day = _folder_day(folder + "/") if slash else o.updated.astimezone(dt.UTC).date()
        if day is None:
            _reject(rejects, o, f"folder {table}/{folder}/ is not date=YYYY-MM-DD")
        elif day < FIRST_DAY:
            _reject(rejects, o, f"landing day {day} is before the first partition "
                                f"{FIRST_LANDING_DATE}")
        elif day > last_day:
            deferred.add(f"{table}/{folder}/")  # no partition for that day yet: wait
        else:
            routed[key] = (table, day)
    return routed, deferred


def _folder_day(name: str) -> dt.date | None:
    match = _DATE_FOLDER.fullmatch(name)
    if not match:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:  # date=2026-02-30
        return None
