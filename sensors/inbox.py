"""What the inbox still owes bronze: the planning half of the inbox sensor, free of Dagster.

The inbox layout is ``{table}/date=YYYY-MM-DD/{file}`` (also ``{table}/{file}``, dated by its
upload day). The plan is a *reconcile*, not a diff against the previous tick: an object is
**pending** while the newest bronze materialization of its partition did not read it at its
current generation (every bronze run records the ``{key: generation}`` it read). Whatever
happens to a run (it fails, it is killed, it skipped a file still being written, the daemon
dies mid-tick), the object stays pending and is requested again, so ingestion converges with
no human action. The sensor keeps only small state: a watermark, the retry attempts of the
days still pending, and the partitions that asked to be re-ingested.

A tick costs what is recent, not what is stored:

* every tick lists, per table, the date folders from the newest landing day minus a short
  lookback (``start_offset``, paginated, the tables concurrently);
* a *discovery* tick (the first one, then every ``discovery_s`` seconds) also lists one
  delimiter level of the bucket root and of each table folder (unknown folders, undated
  objects), the folders of the last ``horizon_days`` days object by object (a file
  re-landed on an ingested day), and older folders only while their partition has never been
  materialized (a late first landing).

A day with pending objects is requested once no run covering it is in progress; if the same
objects are still pending after that run, it is requested again with exponential backoff
(the attempt number is part of the run key, so Dagster does not deduplicate it away).

Everything that cannot be routed to a ``bronze/<table>`` partition (an unknown top folder,
a folder that is not ``date=YYYY-MM-DD``, a day before the first partition or too far in
the future, an object at the bucket root) becomes a :class:`Reject` with its reason.
Objects still being written (see ``ObjectStore.unsettled``) are neither requested nor
rejected until they settle.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ecommerce_assets.formats import FIRST_LANDING_DATE
from resources.keys import InvalidKeyError
from resources.object_store import ObjectInfo, ObjectStore

CURSOR_VERSION = 2
REJECTS = "rejects"  # the attempts entry of the unroutable objects' job
_DATE_FOLDER = re.compile(r"^date=(\d{4}-\d{2}-\d{2})/$")
FIRST_DAY = dt.date.fromisoformat(FIRST_LANDING_DATE)
MAX_BACKOFF_S = 3600


@dataclass
class Attempt:
    """The last request for one landing day (or for the rejects job)."""

    digest: str  # what was pending when it was requested
    n: int  # 0 for the first request of that digest, then 1, 2, ...
    at: str  # ISO timestamp of the request
    run_key: str

    def due(self, base_s: int) -> dt.datetime:
        """When the same pending set may be requested again (exponential backoff)."""
        wait = min(base_s * 2 ** self.n, MAX_BACKOFF_S)
        return dt.datetime.fromisoformat(self.at) + dt.timedelta(seconds=wait)


@dataclass
class InboxCursor:
    """The sensor's memory between ticks, stored by Dagster as JSON. It stays small: no map
    of every object, only what is still owed (its size follows the pending days)."""

    high_water: str | None = None  # newest landing day seen (ISO date)
    discovered_at: str | None = None  # last discovery listing (ISO timestamp)
    attempts: dict[str, Attempt] = field(default_factory=dict)  # day ISO | REJECTS -> last
    # unroutable key -> generation, handed to the rejects job (forgotten if that run fails)
    rejected: dict[str, str] = field(default_factory=dict)
    # "table/day" -> storage id of a re-ingest request (observation) not yet served
    reingest: dict[str, int] = field(default_factory=dict)
    observed_after: int = 0  # storage id: re-ingest observations up to it are in `reingest`

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
        data["attempts"] = {k: Attempt(**a) for k, a in data.get("attempts", {}).items()}
        return cls(**data)


@dataclass(frozen=True)
class Reject:
    """An inbox object (or an unreadable folder) that no bronze partition can take."""

    key: str
    generation: str
    size: int
    updated: str  # ISO timestamp
    reason: str


@dataclass(frozen=True)
class Ingested:
    """What the newest bronze materialization of one partition read."""

    storage_id: int | None = None  # None: never materialized
    objects: dict[str, str] = field(default_factory=dict)  # inbox key -> generation


@dataclass(frozen=True)
class DayRequest:
    """One bronze run to request: a landing day and the tables that owe it objects."""

    day: dt.date
    tables: dict[str, list[ObjectInfo]]  # table -> its pending objects (may be empty for
    #                                      a partition that asked to be re-ingested)
    run_key: str
    attempt: int

    @property
    def pending(self) -> int:
        return sum(map(len, self.tables.values()))


@dataclass
class TickPlan:
    requests: list[DayRequest]
    rejects: list[Reject]  # unroutable objects to hand to the rejects job (empty: none)
    rejects_run_key: str | None
    cursor: InboxCursor
    notes: list[tuple[str, str]]  # (level, message) for the tick's log

    @property
    def days(self) -> list[dt.date]:
        return [r.day for r in self.requests]


def _digest(items: Iterable[str]) -> str:
    """A short hash of a set of strings, whatever their order."""
    return hashlib.sha1("\n".join(sorted(items)).encode()).hexdigest()[:16]


# (table, day) -> what its newest bronze materialization read.
IngestedLookup = Callable[[str, dt.date], Ingested]
# table -> landing days with a bronze materialization.
Materialized = Callable[[str], set[dt.date]]


@dataclass(frozen=True)
class Policy:
    """The sensor's settings (see resources/settings.py for their variables)."""

    lookback_days: int = 2
    horizon_days: int = 30
    max_future_days: int = 1
    page_size: int = 1000
    discovery_s: int = 300
    retry_base_s: int = 30


def plan_tick(store: ObjectStore, cursor: InboxCursor | None, *, tables: Iterable[str],
              now: dt.datetime, policy: Policy, materialized: Materialized,
              ingested: IngestedLookup, busy_days: set[dt.date] = frozenset(),
              reingest: dict[tuple[str, dt.date], int] | None = None,
              run_status: Callable[[str], str | None] = lambda run_key: None) -> TickPlan:
    """Reconcile the inbox with what bronze read; pure apart from the listings and lookups.

    ``busy_days``: landing days a run in progress covers (never requested meanwhile).
    ``reingest``: new re-ingest requests, (table, day) -> storage id of the observation.
    ``run_status``: run key -> 'success' | 'failure' | 'running' | None (no such run).
    """
    tables = sorted(set(tables))
    ingested = functools.cache(ingested)  # one lookup per partition per tick
    cursor = copy.deepcopy(cursor) if cursor else InboxCursor()
    today = now.astimezone(dt.UTC).date()
    notes: list[tuple[str, str]] = []
    discover = cursor.discovered_at is None or (
        now - dt.datetime.fromisoformat(cursor.discovered_at)).total_seconds() \
        >= policy.discovery_s
    known = dt.date.fromisoformat(cursor.high_water) if cursor.high_water else None
    window_start = min(known or today, today) - dt.timedelta(days=policy.lookback_days)
    horizon_start = today - dt.timedelta(days=policy.horizon_days)

    listed = _list_recent(store, tables, window_start, policy.page_size)
    unroutable: dict[str, tuple[ObjectInfo | None, str]] = {}
    if discover:
        beyond = _discover(store, tables, window_start, min(window_start, horizon_start),
                           policy.page_size, materialized, listed, unroutable)
        if beyond:
            notes.append(("info", f"{beyond} ingested landing days older than the "
                                  f"{policy.horizon_days}-day re-landing horizon were not "
                                  "listed: a file re-landed there needs a backfill"))
    # A file still being written is neither taken nor rejected (nor moved) until it settles.
    unsettled = {k for k, o in listed.items() if store.unsettled(o, now)}
    unsettled |= {k for k, (o, _) in unroutable.items() if o and store.unsettled(o, now)}
    if unsettled:
        notes.append(("info", f"{len(unsettled)} objects still being written: waiting "
                              f"(e.g. {min(unsettled)})"))
    routed, deferred = _route({k: o for k, o in listed.items() if k not in unsettled},
                              today, policy.max_future_days, unroutable)
    rejects = {k: _reject(k, o, reason) for k, (o, reason) in unroutable.items()
               if k not in unsettled}
    for folder in sorted(deferred):  # a warning once per discovery, not every tick
        notes.append(("warning" if discover else "info",
                      f"{folder}: dated after today (UTC), no partition yet; waiting"))
    newest = max([*(day for _, day in routed.values()), *([known] if known else [])],
                 default=None)
    cursor.high_water = newest.isoformat() if newest else None
    if discover:
        cursor.discovered_at = now.isoformat()

    owed = _owed(listed, routed, ingested)
    _owe_reingests(owed, cursor, reingest or {}, ingested)

    requests = []
    for day, by_table in sorted(owed.items()):
        request = _request(day, by_table, cursor, now, policy, busy_days, ingested, notes)
        if request:
            requests.append(request)
    for key in [k for k in cursor.attempts if k != REJECTS and
                dt.date.fromisoformat(k) not in owed]:
        del cursor.attempts[key]  # nothing owed any more: forget the attempts

    last = cursor.attempts.get(REJECTS)
    pending_rejects, rejects_key = _plan_rejects(
        rejects, cursor, discover, now, policy,
        run_status(last.run_key) if last else "success", notes)
    return TickPlan(requests=requests, rejects=pending_rejects, rejects_run_key=rejects_key,
                    cursor=cursor, notes=notes)


def _owed(listed: dict[str, ObjectInfo], routed: dict[str, tuple[str, dt.date]],
          ingested: IngestedLookup) -> dict[dt.date, dict[str, list[ObjectInfo]]]:
    """day -> table -> the routed objects the partition's newest materialization did not read
    at their current generation."""
    by_partition: dict[tuple[str, dt.date], list[ObjectInfo]] = {}
    for key, partition in routed.items():
        by_partition.setdefault(partition, []).append(listed[key])
    owed: dict[dt.date, dict[str, list[ObjectInfo]]] = {}
    for (table, day), objects in sorted(by_partition.items()):
        read = ingested(table, day).objects
        missing = sorted((o for o in objects if read.get(o.key) != o.generation),
                         key=lambda o: o.key)
        if missing:
            owed.setdefault(day, {})[table] = missing
    return owed


def _owe_reingests(owed: dict[dt.date, dict[str, list[ObjectInfo]]], cursor: InboxCursor,
                   new: dict[tuple[str, dt.date], int], ingested: IngestedLookup) -> None:
    """Add the re-ingest requests to what is owed (a partition with no object listed); a
    request is served by any materialization of its partition after it."""
    for (table, day), observed in new.items():
        name = f"{table}/{day.isoformat()}"
        cursor.reingest[name] = max(observed, cursor.reingest.get(name, 0))
    for name, observed in list(cursor.reingest.items()):
        table, _, day_text = name.partition("/")
        day = dt.date.fromisoformat(day_text)
        if (ingested(table, day).storage_id or 0) > observed:
            del cursor.reingest[name]
        else:
            owed.setdefault(day, {}).setdefault(table, [])


def _request(day: dt.date, by_table: dict[str, list[ObjectInfo]], cursor: InboxCursor,
             now: dt.datetime, policy: Policy, busy_days: set[dt.date],
             ingested: IngestedLookup, notes: list[tuple[str, str]]) -> DayRequest | None:
    """The run for an owed day, unless one is in progress or the last attempt is recent."""
    if day in busy_days:
        return None  # the run in progress may take them; decide after it
    # The digest covers the pending versions and the partitions' newest materializations,
    # so a partition materialized since (or wiped) gets a new run key.
    state = [f"{o.key}\t{o.generation}" for objects in by_table.values() for o in objects]
    state += [f"{t}\t{ingested(t, day).storage_id}" for t in by_table]
    digest = _digest(state)
    last = cursor.attempts.get(day.isoformat())
    n = 0
    if last is not None and last.digest == digest:
        if now < last.due(policy.retry_base_s):
            return None
        n = last.n + 1
        notes.append(("warning", f"{day}: {sum(map(len, by_table.values()))} objects of "
                                 f"{', '.join(sorted(by_table))} still not ingested after "
                                 f"attempt {last.n + 1}; requesting again"))
    run_key = f"inbox-{day.isoformat()}-{digest}" + (f"-retry{n}" if n else "")
    cursor.attempts[day.isoformat()] = Attempt(digest, n, now.isoformat(), run_key)
    return DayRequest(day, dict(sorted(by_table.items())), run_key, n)


def _plan_rejects(rejects: dict[str, Reject], cursor: InboxCursor, discover: bool,
                  now: dt.datetime, policy: Policy, last_status: str | None,
                  notes: list[tuple[str, str]]) -> tuple[list[Reject], str | None]:
    """Unroutable objects are handed to the rejects job once per generation. While its run
    is in progress nothing more is requested; when it failed (or was never launched) they
    are owed again, after backoff."""
    last = cursor.attempts.get(REJECTS)
    if last is not None:
        if last_status == "running":
            return [], None
        if last_status == "success":
            del cursor.attempts[REJECTS]
            last = None
        else:
            cursor.rejected.clear()  # owed again, whatever that run managed to do
            if now < last.due(policy.retry_base_s):
                return [], None
    if discover:  # a full view of what is unroutable: forget what left the inbox
        cursor.rejected = {k: g for k, g in cursor.rejected.items() if k in rejects}
    new = sorted((r for r in rejects.values() if cursor.rejected.get(r.key) != r.generation),
                 key=lambda r: r.key)
    if not new:
        return [], None
    digest = _digest(f"{r.key}\t{r.generation}" for r in new)
    n = last.n + 1 if last is not None else 0
    if n:
        notes.append(("warning", f"the last inbox_rejects run did not succeed; requesting "
                                 f"{len(new)} objects again (attempt {n + 1})"))
    run_key = f"inbox-rejects-{digest}" + (f"-retry{n}" if n else "")
    cursor.attempts[REJECTS] = Attempt(digest, n, now.isoformat(), run_key)
    cursor.rejected.update((r.key, r.generation) for r in new)
    return new, run_key


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


def _reject(key: str, o: ObjectInfo | None, reason: str) -> Reject:
    if o is None:  # a folder that could not be listed
        return Reject(key, "folder", 0, "", reason)
    return Reject(o.key, o.generation, o.size, o.updated.isoformat(), reason)


Unroutable = dict[str, tuple[ObjectInfo | None, str]]  # key -> (object, reason)


def _discover(store: ObjectStore, tables: list[str], window_start: dt.date,
              relist_from: dt.date, page_size: int, materialized: Materialized,
              listed: dict[str, ObjectInfo], unroutable: Unroutable) -> int:
    """One delimiter level of the bucket root and of each table folder: unknown folders and
    root objects (unroutable); undated objects, the day folders from ``relist_from`` on
    and older days never ingested (into listed). Returns how many ingested days were left
    unlisted."""
    with ThreadPoolExecutor(max_workers=len(tables) + 1) as pool:
        root_listing = pool.submit(store.list_folder, "", page_size=page_size,
                                   checksums=False)
        levels = dict(zip(tables, pool.map(lambda t: store.list_folder(
            f"{t}/", page_size=page_size, checksums=False), tables), strict=True))
        root = root_listing.result()
    for o in root.objects:
        unroutable[o.key] = (o, "object at the bucket root: files land under "
                                "{table}/date=YYYY-MM-DD/")
    for prefix in root.prefixes:
        if prefix[:-1] in tables:
            continue
        reason = f"unknown table folder {prefix!r} (expected one of {', '.join(tables)})"
        try:
            for o in _list_objects(store, prefix, page_size):
                unroutable[o.key] = (o, reason)
        except InvalidKeyError:  # a folder name we cannot even list safely
            unroutable[prefix] = (None, f"{reason}, not listed: its name is not a valid "
                                        "object key")
    beyond = 0
    for table, level in levels.items():
        listed.update((o.key, o) for o in level.objects)  # undated objects
        done = None  # materialized days of this table, fetched only when needed
        for sub in level.prefixes:
            if sub >= f"{table}/date={window_start.isoformat()}/":
                continue  # the tick's own listing covered it
            day = _folder_day(sub[len(table) + 1:])
            if day is not None and FIRST_DAY <= day < relist_from:
                done = materialized(table) if done is None else done
                if day in done:
                    beyond += 1  # an old, ingested day: only a backfill reads it again
                    continue
            listed.update((o.key, o) for o in _list_objects(store, sub, page_size))
    return beyond


def _route(listed: dict[str, ObjectInfo], today: dt.date, max_future_days: int,
           unroutable: Unroutable) -> tuple[dict[str, tuple[str, dt.date]], set[str]]:
    """Each listed object -> its (table, landing day), a reject, or a folder that waits for
    its day's partition (at most ``max_future_days`` ahead: time zones run ahead of UTC)."""
    routed: dict[str, tuple[str, dt.date]] = {}
    deferred: set[str] = set()
    for key, o in listed.items():
        table, _, rest = key.partition("/")
        folder, slash, _ = rest.partition("/")
        day = _folder_day(folder + "/") if slash else o.updated.astimezone(dt.UTC).date()
        if day is None:
            unroutable[key] = (o, f"folder {table}/{folder}/ is not date=YYYY-MM-DD")
        elif day < FIRST_DAY:
            unroutable[key] = (o, f"landing day {day} is before the first partition "
                                  f"{FIRST_LANDING_DATE}")
        elif day > today + dt.timedelta(days=max_future_days):
            unroutable[key] = (o, f"landing day {day} is more than {max_future_days} "
                                  f"day(s) after today ({today}, UTC): a mistyped date? "
                                  "(ECOMMERCE_SENSOR_MAX_FUTURE_DAYS)")
        elif day > today:
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
