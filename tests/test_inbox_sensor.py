"""The inbox sensor on a local folder and on a real GCS API (fake-gcs-server).

Each test drives ``inbox_sensor`` tick by tick with ``dg.build_sensor_context`` on a test
instance, passing the stored cursor from one tick to the next as the daemon does. What the
daemon would do with the requests is played by :meth:`Inbox.finish`: it records a run with
the request's run key and status in the instance and, for a successful bronze run, the
materializations with the ``ingested_objects`` a real run records (the real daemon is
exercised by tests/test_pipeline_e2e.py and tests/test_drills.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType
from dagster._core.storage.tags import PARTITION_NAME_TAG, RUN_KEY_TAG
from dagster._core.utils import make_new_run_id

from ecommerce_assets.bronze.assets import INGESTED_OBJECTS, REINGEST_REASON
from ecommerce_assets.definitions import defs
from ecommerce_assets.partitions import daily_partitions
from resources.object_store import GCSObjectStore, LocalObjectStore, ObjectStore
from sensors.inbox import InboxCursor
from sensors.inbox_sensor import inbox_sensor
from tests.fake_gcs import fake_gcs_server, preload

TODAY = dt.datetime.now(dt.UTC).date()
D0, D1 = TODAY - dt.timedelta(days=1), TODAY
CSV = b"id,name\n1,a\n"


@dataclass
class Inbox:
    store: ObjectStore
    instance: dg.DagsterInstance
    cursor: str | None = None

    def put(self, key: str, data: bytes = CSV) -> None:
        self.store.write_bytes(key, data)

    def tick(self) -> dg.SensorResult:
        """One evaluation, as the daemon runs it; keeps the cursor it returns."""
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor,
                                          resources={"inbox_store": self.store},
                                          definitions=defs)
        result = inbox_sensor(context)
        assert isinstance(result, dg.SensorResult)
        self.cursor = result.cursor
        return result

    def finish(self, result: dg.SensorResult,
               status: dg.DagsterRunStatus = dg.DagsterRunStatus.SUCCESS) -> None:
        """Play the daemon: each requested run exists with ``status``; a successful bronze
        run materializes its partitions, recording the objects it read."""
        for request in result.run_requests:
            tags = {**request.tags, RUN_KEY_TAG: request.run_key}
            if request.partition_key:
                tags[PARTITION_NAME_TAG] = request.partition_key
            self.instance.add_run(dg.DagsterRun(job_name=request.job_name,
                                                run_id=make_new_run_id(),
                                                status=status, tags=tags))
            if status != dg.DagsterRunStatus.SUCCESS or not request.partition_key:
                continue
            day = dt.date.fromisoformat(request.partition_key)
            for asset_key in request.asset_selection or []:
                table = asset_key.path[-1]
                read = {o.key: o.generation for o in self.store.list(
                    f"{table}/date={day.isoformat()}/", checksums=False)}
                read.update((o.key, o.generation) for o in self.store.list(
                    f"{table}/", recursive=False, checksums=False)
                    if o.updated.astimezone(dt.UTC).date() == day)
                self.instance.report_runless_asset_event(dg.AssetMaterialization(
                    asset_key=asset_key, partition=day.isoformat(),
                    metadata={INGESTED_OBJECTS: dg.MetadataValue.json(read)}))

    def end_run(self, run_key: str, status: dg.DagsterRunStatus) -> None:
        """The run with ``run_key`` ends with ``status``."""
        run = self.instance.get_run_records(
            dg.RunsFilter(tags={RUN_KEY_TAG: run_key}))[0].dagster_run
        event = {dg.DagsterRunStatus.SUCCESS: DagsterEventType.RUN_SUCCESS,
                 dg.DagsterRunStatus.FAILURE: DagsterEventType.RUN_FAILURE}[status]
        self.instance.report_dagster_event(
            dg.DagsterEvent(event_type_value=event.value, job_name=run.job_name),
            run_id=run.run_id)
        assert self.instance.get_run_by_id(run.run_id).status == status

    def tick_and_finish(self) -> dg.SensorResult:
        result = self.tick()
        self.finish(result)
        return result

    def listed_during_tick(self) -> tuple[dg.SensorResult, int]:
        before = self.store.objects_listed
        result = self.tick()
        return result, self.store.objects_listed - before


def day_key(table: str, day: dt.date, name: str) -> str:
    return f"{table}/date={day.isoformat()}/{name}"


def bronze_runs(result: dg.SensorResult) -> dict[str, list[str]]:
    """partition -> the bronze tables its run materializes."""
    return {r.partition_key: sorted(k.path[-1] for k in r.asset_selection)
            for r in result.run_requests if r.job_name == "bronze_ingest"}


def reject_runs(result: dg.SensorResult) -> list[dict]:
    return [o for r in result.run_requests if r.job_name == "inbox_rejects"
            for o in r.run_config["ops"]["record_inbox_rejects"]["config"]["objects"]]


@pytest.fixture(params=["local", "gcs"])
def inbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Inbox]:
    if request.param == "local":
        store: ObjectStore = LocalObjectStore(root=str(tmp_path / "inbox"))
    else:
        endpoint = request.getfixturevalue("fake_gcs")
        store = GCSObjectStore(bucket=request.getfixturevalue("gcs_bucket"),
                               endpoint=endpoint)
    with dg.instance_for_test() as instance:
        yield Inbox(store, instance)


def test_first_tick_requests_one_run_per_landing_day(inbox: Inbox) -> None:
    inbox.put(day_key("orders", D0, "a.csv"))
    inbox.put(day_key("users", D0, "a.csv"))
    inbox.put(day_key("orders", D1, "b.csv"))
    result = inbox.tick()
    assert bronze_runs(result) == {D0.isoformat(): ["orders", "users"],
                                   D1.isoformat(): ["orders"]}
    assert all(r.run_key for r in result.run_requests)
    assert reject_runs(result) == []
    # The runs are queued or running: a tick never requests their days again meanwhile.
    inbox.finish(result, dg.DagsterRunStatus.STARTED)
    assert inbox.tick().run_requests == []


def test_ingested_objects_are_never_requested_again(inbox: Inbox) -> None:
    inbox.put(day_key("orders", D1, "a.csv"))
    inbox.tick_and_finish()
    cursor = inbox.cursor
    assert inbox.tick().run_requests == []
    assert inbox.tick().run_requests == []
    stored = InboxCursor.from_json(inbox.cursor)
    assert stored.attempts == {}  # nothing owed: nothing remembered
    assert len(inbox.cursor) <= len(cursor)


def test_same_second_uploads_are_each_seen_once(inbox: Inbox) -> None:
    keys = [day_key("events", D1, f"part-{i:03d}.csv") for i in range(6)]
    for key in keys[:3]:
        inbox.put(key)
    if isinstance(inbox.store, LocalObjectStore):  # force one shared timestamp
        stamp = time.time()
        for key in keys[:3]:
            os.utime(inbox.store._path(key), (stamp, stamp))
    inbox.tick_and_finish()
    for key in keys[3:]:
        inbox.put(key)
    if isinstance(inbox.store, LocalObjectStore):
        for key in keys[3:]:
            os.utime(inbox.store._path(key), (stamp, stamp))
    result = inbox.tick()
    assert bronze_runs(result) == {D1.isoformat(): ["events"]}
    assert result.run_requests[0].tags["ecommerce/new_objects"] == "3"
    inbox.finish(result)
    assert inbox.tick().run_requests == []


def test_overwrite_is_a_new_run(inbox: Inbox) -> None:
    key = day_key("products", D1, "p.csv")
    inbox.put(key)
    first = inbox.tick_and_finish().run_requests[0].run_key
    assert inbox.tick().run_requests == []
    inbox.put(key, CSV + b"2,b\n")  # same name, new generation
    again = inbox.tick().run_requests
    assert [r.partition_key for r in again] == [D1.isoformat()]
    assert again[0].run_key != first


def test_deleted_or_archived_objects_never_cause_a_run(inbox: Inbox, tmp_path: Path) -> None:
    keys = [day_key("orders", D1, f"{n}.csv") for n in "abc"]
    for key in keys:
        inbox.put(key)
    inbox.tick_and_finish()
    archive = LocalObjectStore(root=str(tmp_path / "archive"))
    inbox.store.copy_to(keys[0], archive)  # archival: copy, then leave the inbox
    inbox.store.delete(keys[0])
    inbox.store.delete(keys[1])
    assert inbox.tick().run_requests == []
    inbox.put(keys[1])  # the same name uploaded again is new data
    assert bronze_runs(inbox.tick()) == {D1.isoformat(): ["orders"]}


def test_restart_from_a_stored_cursor(inbox: Inbox) -> None:
    """A restarted daemon: a new process reads the stored cursor and the same instance."""
    inbox.put(day_key("users", D1, "u.csv"))
    inbox.tick_and_finish()
    restarted = Inbox(inbox.store, inbox.instance, inbox.cursor)
    assert restarted.tick().run_requests == []
    inbox.put(day_key("users", D1, "v.csv"))
    result = restarted.tick()
    assert bronze_runs(result) == {D1.isoformat(): ["users"]}
    assert result.run_requests[0].tags["ecommerce/new_objects"] == "1"


def test_first_tick_skips_objects_a_run_already_ingested(inbox: Inbox) -> None:
    """`make dev` materializes the seeded days before the sensor's first tick."""
    for table in ("orders", "users"):
        inbox.put(day_key(table, D0, "seed.csv"))
    inbox.put(day_key("orders", D0, "later.csv"))
    read = {o.key: o.generation for o in inbox.store.list("orders/")
            if o.key.endswith("seed.csv")}

    @dg.asset(key=["bronze", "orders"], partitions_def=daily_partitions)
    def orders_stand_in() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={INGESTED_OBJECTS: dg.MetadataValue.json(read)})

    assert dg.materialize([orders_stand_in], instance=inbox.instance,
                          partition_key=D0.isoformat()).success
    # orders/D0/seed.csv was read by that run; later.csv was not, and users/D0 has no run.
    result = inbox.tick()
    assert bronze_runs(result) == {D0.isoformat(): ["orders", "users"]}
    assert result.run_requests[0].tags["ecommerce/new_objects"] == "2"


def test_a_failed_run_is_requested_again_with_backoff(inbox: Inbox,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16 (1): a failed bronze run used to be requested once, then never again."""
    inbox.put(day_key("orders", D1, "a.csv"))
    first = inbox.tick()
    inbox.finish(first, dg.DagsterRunStatus.FAILURE)
    assert inbox.tick().run_requests == []  # backing off (30 s by default)
    monkeypatch.setenv("ECOMMERCE_SENSOR_RETRY_BASE_S", "0")
    retry = inbox.tick()
    assert bronze_runs(retry) == {D1.isoformat(): ["orders"]}
    assert retry.run_requests[0].run_key != first.run_requests[0].run_key
    assert retry.run_requests[0].tags["ecommerce/attempt"] == "2"
    inbox.finish(retry, dg.DagsterRunStatus.FAILURE)
    third = inbox.tick()
    assert third.run_requests[0].tags["ecommerce/attempt"] == "3"
    inbox.finish(third)  # it finally succeeds: nothing owed, nothing remembered
    assert inbox.tick().run_requests == []
    assert InboxCursor.from_json(inbox.cursor).attempts == {}


def test_backoff_doubles_per_attempt(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMMERCE_SENSOR_RETRY_BASE_S", "10")
    inbox.put(day_key("orders", D1, "a.csv"))
    inbox.finish(inbox.tick(), dg.DagsterRunStatus.FAILURE)

    def age_last_attempt(seconds: int) -> None:
        cursor = InboxCursor.from_json(inbox.cursor)
        attempt = cursor.attempts[D1.isoformat()]
        attempt.at = (dt.datetime.fromisoformat(attempt.at)
                      - dt.timedelta(seconds=seconds)).isoformat()
        inbox.cursor = cursor.to_json()

    age_last_attempt(9)
    assert inbox.tick().run_requests == []
    age_last_attempt(2)  # 11 s after the first request: due
    second = inbox.tick()
    assert len(second.run_requests) == 1
    inbox.finish(second, dg.DagsterRunStatus.FAILURE)
    age_last_attempt(15)  # the second wait is 20 s
    assert inbox.tick().run_requests == []
    age_last_attempt(6)
    assert len(inbox.tick().run_requests) == 1


def test_a_run_that_skipped_an_object_leaves_it_owed(inbox: Inbox) -> None:
    """A run that did not read an object (still being written, or landed after its listing)
    succeeds, and the object is requested again: the reconcile, not the cursor, decides."""
    inbox.put(day_key("users", D1, "a.csv"))
    result = inbox.tick()
    inbox.put(day_key("users", D1, "b.csv"))  # lands while "the run" lists the day
    inbox.finish(result)  # the stand-in run read both
    assert inbox.tick().run_requests == []
    inbox.put(day_key("users", D1, "c.csv"))
    key = day_key("users", D1, "c.csv")
    result = inbox.tick()
    # The run reads a and b only (c is, say, still being copied), and succeeds.
    inbox.instance.report_runless_asset_event(dg.AssetMaterialization(
        asset_key=["bronze", "users"], partition=D1.isoformat(),
        metadata={INGESTED_OBJECTS: dg.MetadataValue.json({
            o.key: o.generation for o in inbox.store.list("users/") if o.key != key})}))
    inbox.finish(result, dg.DagsterRunStatus.FAILURE)  # only marks the run finished
    again = inbox.tick()
    assert bronze_runs(again) == {D1.isoformat(): ["users"]}
    assert again.run_requests[0].tags["ecommerce/new_objects"] == "1"


def test_a_reingest_request_is_served_once(inbox: Inbox) -> None:
    """Issue 16 (4): a bronze run asks for another partition to be re-ingested (an object
    there was skipped as a duplicate of a version that is gone)."""
    inbox.put(day_key("orders", D0, "dup.csv"))
    inbox.tick_and_finish()
    assert inbox.tick().run_requests == []
    inbox.instance.report_runless_asset_event(dg.AssetObservation(
        asset_key=["bronze", "orders"], partition=D0.isoformat(),
        metadata={REINGEST_REASON: "orders/date=.../x.csv was replaced"}))
    result = inbox.tick()
    assert bronze_runs(result) == {D0.isoformat(): ["orders"]}
    inbox.finish(result)
    assert inbox.tick().run_requests == []
    assert InboxCursor.from_json(inbox.cursor).reingest == {}


def test_relanded_file_within_the_horizon_is_ingested_again(
        inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16 (5): a corrected file re-uploaded to an ingested day older than the lookback."""
    monkeypatch.setenv("ECOMMERCE_SENSOR_DISCOVERY_S", "0")  # every tick discovers
    inbox.put(day_key("orders", TODAY, "today.csv"))
    old, ancient = TODAY - dt.timedelta(days=10), TODAY - dt.timedelta(days=40)
    for day in (old, ancient):
        inbox.put(day_key("orders", day, "x.csv"))
    inbox.tick_and_finish()
    assert inbox.tick().run_requests == []
    for day in (old, ancient):
        inbox.put(day_key("orders", day, "x.csv"), CSV + b"2,corrected\n")
    result = inbox.tick()
    assert bronze_runs(result) == {old.isoformat(): ["orders"]}  # 40 days: past the horizon
    monkeypatch.setenv("ECOMMERCE_SENSOR_HORIZON_DAYS", "60")
    inbox.finish(result)
    assert bronze_runs(inbox.tick()) == {ancient.isoformat(): ["orders"]}


def test_cursor_stays_small(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16 (6): the cursor held a key -> generation map (396 kB at 4,200 objects)."""
    monkeypatch.setenv("ECOMMERCE_SENSOR_PAGE_SIZE", "50")
    for i in range(300):
        inbox.put(day_key(TABLES[i % 7], D1 - dt.timedelta(days=i % 3), f"{i:04d}.csv"))
    inbox.tick_and_finish()
    assert inbox.tick().run_requests == []
    assert len(inbox.cursor) < 400


def test_unroutable_objects_are_recorded_once(inbox: Inbox,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMMERCE_SENSOR_DISCOVERY_S", "0")  # every tick discovers
    inbox.put("Orders/date=2026-01-02/x.csv")  # unknown table folder (case matters)
    inbox.put("stray.csv")  # bucket root
    inbox.put("orders/2026-11-24/y.csv")  # not a date= folder
    inbox.put("orders/date=2023-12-31/z.csv")  # before the first partition
    inbox.put(day_key("orders", D1, "good.csv"))
    result = inbox.tick()
    assert bronze_runs(result) == {D1.isoformat(): ["orders"]}
    reasons = {o["key"]: o["reason"] for o in reject_runs(result)}
    assert set(reasons) == {"Orders/date=2026-01-02/x.csv", "stray.csv",
                            "orders/2026-11-24/y.csv", "orders/date=2023-12-31/z.csv"}
    assert "unknown table folder 'Orders/'" in reasons["Orders/date=2026-01-02/x.csv"]
    assert "bucket root" in reasons["stray.csv"]
    assert "not date=YYYY-MM-DD" in reasons["orders/2026-11-24/y.csv"]
    assert "before the first partition" in reasons["orders/date=2023-12-31/z.csv"]
    inbox.finish(result)
    again = inbox.tick()  # still in the inbox, but already recorded: not retried
    assert again.run_requests == []
    inbox.put("stray.csv", b"new content")  # a new generation is a new object
    assert [o["key"] for o in reject_runs(inbox.tick())] == ["stray.csv"]


def test_a_failed_rejects_run_is_requested_again(inbox: Inbox,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMMERCE_SENSOR_DISCOVERY_S", "0")
    inbox.put("stray.csv")
    first = inbox.tick()
    assert [o["key"] for o in reject_runs(first)] == ["stray.csv"]
    inbox.finish(first, dg.DagsterRunStatus.STARTED)
    inbox.put("other.csv")
    assert inbox.tick().run_requests == []  # one rejects run at a time
    inbox.end_run(first.run_requests[0].run_key, dg.DagsterRunStatus.FAILURE)
    assert inbox.tick().run_requests == []  # backing off
    monkeypatch.setenv("ECOMMERCE_SENSOR_RETRY_BASE_S", "0")
    retry = inbox.tick()
    assert sorted(o["key"] for o in reject_runs(retry)) == ["other.csv", "stray.csv"]
    assert retry.run_requests[0].run_key != first.run_requests[0].run_key


def test_pagination_finds_every_object(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMMERCE_SENSOR_PAGE_SIZE", "7")
    for i in range(30):
        inbox.put(day_key("order_items", D1, f"{i:02d}.csv"))
    result = inbox.tick()
    assert result.run_requests[0].tags["ecommerce/new_objects"] == "30"


def test_undated_objects_are_dated_by_upload_day(inbox: Inbox) -> None:
    inbox.put("inventory_items/loose.csv")
    assert bronze_runs(inbox.tick_and_finish()) == {TODAY.isoformat(): ["inventory_items"]}
    assert inbox.tick().run_requests == []


def test_future_days_wait_for_their_partition(inbox: Inbox) -> None:
    """The last daily partition is today's (UTC): a run for tomorrow could not start, so
    tomorrow's folder waits (time zones east of UTC are already there). A folder dated
    further ahead is a mistyped date (issue 16 (9)): rejected with its reason, not left
    waiting for ever."""
    inbox.put(day_key("orders", TODAY + dt.timedelta(days=1), "tomorrow.csv"))
    inbox.put(day_key("orders", TODAY + dt.timedelta(days=5), "early.csv"))
    result = inbox.tick()
    assert bronze_runs(result) == {}
    assert daily_partitions.get_last_partition_key() == TODAY.isoformat()
    reasons = {o["key"]: o["reason"] for o in reject_runs(result)}
    assert list(reasons) == [day_key("orders", TODAY + dt.timedelta(days=5), "early.csv")]
    assert "more than 1 day(s) after today" in next(iter(reasons.values()))


OLD_DAYS = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(50)]
TABLES = ["orders", "order_items", "users", "products", "inventory_items", "events",
          "distribution_centers"]


def old_keys(n: int = 10_000) -> list[str]:
    """n objects spread over 50 old landing days of the seven tables."""
    return [day_key(TABLES[i % 7], OLD_DAYS[(i // 7) % 50], f"old-{i:05d}.csv")
            for i in range(n)]


@pytest.fixture(params=["local", "gcs"])
def big_inbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Inbox]:
    """An inbox holding 10,000 objects of old days, every one of them ingested."""
    keys = old_keys()
    written = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    with contextlib.ExitStack() as stack:
        if request.param == "local":
            store: ObjectStore = LocalObjectStore(root=str(tmp_path / "inbox"))
            for key in keys:
                path = Path(store.root) / key
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(CSV)
        else:
            root = tmp_path / "gcs"
            preloaded = preload(root, "inbox", keys, CSV, written)
            endpoint = stack.enter_context(fake_gcs_server(root))
            store = GCSObjectStore(bucket="inbox", endpoint=endpoint)
            if not preloaded:  # no extended attributes here: the slow way, through the API
                GCSObjectStore(bucket="inbox", endpoint=endpoint)._gcs().create_bucket("inbox")
                for key in keys:
                    store.write_bytes(key, CSV)
        instance = stack.enter_context(dg.instance_for_test())
        for table in TABLES:
            for day in OLD_DAYS:
                instance.report_runless_asset_event(dg.AssetMaterialization(
                    asset_key=["bronze", table], partition=day.isoformat()))
        yield Inbox(store, instance)


def test_tick_lists_only_recent_days_of_a_big_bucket(big_inbox: Inbox,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMMERCE_SENSOR_DISCOVERY_S", "0")  # discovery on every tick
    assert sum(1 for _ in big_inbox.store.list("orders/", checksums=False)) > 1000
    for i in range(3):
        big_inbox.put(day_key("orders", D1, f"new-{i}.csv"))
    result, listed = big_inbox.listed_during_tick()
    assert bronze_runs(result) == {D1.isoformat(): ["orders"]}
    assert listed == 3  # the new day's objects, not the 10,000 stored ones
    big_inbox.finish(result)
    big_inbox.put(day_key("users", D1, "new.csv"))
    result, listed = big_inbox.listed_during_tick()
    assert bronze_runs(result) == {D1.isoformat(): ["users"]}
    assert listed == 4
    big_inbox.finish(result)
    # A late first landing on an old day that was never ingested is still found.
    big_inbox.put(day_key("users", dt.date(2024, 6, 1), "late.csv"))
    result, listed = big_inbox.listed_during_tick()
    assert bronze_runs(result) == {"2024-06-01": ["users"]}
    assert listed == 5


def test_a_day_being_ingested_is_not_requested_again(inbox: Inbox,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """An old day's tables finish one by one; no tick requests the rest a second time."""
    monkeypatch.setenv("ECOMMERCE_SENSOR_DISCOVERY_S", "0")
    monkeypatch.setenv("ECOMMERCE_SENSOR_RETRY_BASE_S", "0")  # any retry would be at once
    old = TODAY - dt.timedelta(days=10)
    inbox.put(day_key("events", TODAY, "today.csv"))
    inbox.tick_and_finish()
    tables = ["orders", "products", "users"]
    for table in tables:
        inbox.put(day_key(table, old, "late.csv"))
    result = inbox.tick()
    assert bronze_runs(result) == {old.isoformat(): tables}
    run_key = result.run_requests[0].run_key
    inbox.finish(result, dg.DagsterRunStatus.STARTED)
    for table in tables:  # the run materializes its tables one by one
        key = day_key(table, old, "late.csv")
        inbox.instance.report_runless_asset_event(dg.AssetMaterialization(
            asset_key=["bronze", table], partition=old.isoformat(),
            metadata={INGESTED_OBJECTS: dg.MetadataValue.json(
                {key: inbox.store.stat(key).generation})}))
        assert inbox.tick().run_requests == []
    inbox.end_run(run_key, dg.DagsterRunStatus.SUCCESS)
    assert inbox.tick().run_requests == []
    # Ingested and outside the recent days: nothing left to remember about that day.
    assert InboxCursor.from_json(inbox.cursor).attempts == {}


def test_rejects_job_records_and_quarantines_unroutable_objects(ecommerce_home: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """The sensor's reject request, executed: registry rows with reasons, objects moved."""
    from ecommerce_assets.inbox_rejects import inbox_rejects
    from resources.deployment import build_resources

    monkeypatch.setenv("ECOMMERCE_SENSOR_DISCOVERY_S", "0")
    monkeypatch.setenv("ECOMMERCE_INBOX_SETTLE_S", "0")  # written just now, and complete
    resources = build_resources("local")
    inbox_store = resources["inbox_store"]
    inbox_store.write_bytes("Orders/date=2026-01-02/x.csv", CSV)
    inbox_store.write_bytes("stray.csv", CSV)
    bad = Path(inbox_store.root) / "my folder"  # not a valid key: recorded, left alone
    bad.mkdir()
    (bad / "y.csv").write_bytes(CSV)
    with dg.instance_for_test() as instance:
        inbox = Inbox(inbox_store, instance)
        request = next(r for r in inbox.tick().run_requests if r.job_name == "inbox_rejects")
        for _ in range(2):  # a re-run replaces its rows instead of adding copies
            result = inbox_rejects.execute_in_process(
                run_config=request.run_config, instance=instance,
                resources={k: resources[k] for k in
                           ("warehouse", "inbox_store", "quarantine_store")})
            assert result.success
    rows = resources["warehouse"].query_arrow(
        "SELECT object_key, status, reason, table_name FROM ops.file_registry "
        "ORDER BY object_key").to_pylist()
    assert [r["object_key"] for r in rows] == ["Orders/date=2026-01-02/x.csv", "my folder/",
                                               "stray.csv"]
    assert {r["status"] for r in rows} == {"rejected"}
    assert all(r["table_name"] is None for r in rows)
    assert "left in the inbox" in rows[1]["reason"]
    quarantine = resources["quarantine_store"]
    assert sorted(o.key for o in quarantine.list("unrouted/")) == [
        "unrouted/Orders/date=2026-01-02/x.csv", "unrouted/stray.csv"]
    assert not inbox_store.exists("stray.csv") and (bad / "y.csv").exists()


def test_shipped_instance_purges_old_ticks(tmp_path: Path) -> None:
    """Issue 16 (6): tick rows (each with the cursor) must not pile up for ever."""
    import shutil

    from dagster._core.definitions.run_request import InstigatorType
    from dagster._core.scheduler.instigation import TickStatus

    from tests.conftest import REPO

    shutil.copy(REPO / "deploy" / "dagster.local.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        for kind in (InstigatorType.SENSOR, InstigatorType.AUTO_MATERIALIZE):
            days = instance.get_tick_retention_settings(kind)
            assert days[TickStatus.SKIPPED] == 1
            assert days[TickStatus.SUCCESS] == days[TickStatus.FAILURE] == 30


def test_objects_still_being_written_are_left_alone(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16 (2): a half-copied file was taken (or rejected and moved to quarantine
    while the writer was still writing)."""
    monkeypatch.setenv("ECOMMERCE_SENSOR_DISCOVERY_S", "0")
    store = LocalObjectStore(root=str(tmp_path / "inbox"), settle_s=1.0)
    with dg.instance_for_test() as instance:
        inbox = Inbox(store, instance)
        inbox.put(day_key("orders", D1, "big.csv.gz"), b"\x1f\x8b\x08 first bytes")
        inbox.put("stray.csv")  # would be rejected, once complete
        assert inbox.tick().run_requests == []
        time.sleep(1.2)  # nothing changed for settle_s: complete
        result = inbox.tick()
        assert bronze_runs(result) == {D1.isoformat(): ["orders"]}
        assert [o["key"] for o in reject_runs(result)] == ["stray.csv"]
