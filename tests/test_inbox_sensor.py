"""The inbox sensor on a local folder and on a real GCS API (fake-gcs-server).

Each test drives ``inbox_sensor`` tick by tick with ``dg.build_sensor_context`` on a test
instance, passing the stored cursor from one tick to the next as the daemon does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from ecommerce_assets.bronze.assets import INGESTED_OBJECTS
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
    # Nothing new: no run, and the cursor is stable.
    cursor = inbox.cursor
    assert inbox.tick().run_requests == []
    assert InboxCursor.from_json(inbox.cursor).seen == InboxCursor.from_json(cursor).seen


def test_same_second_uploads_are_each_seen_once(inbox: Inbox) -> None:
    keys = [day_key("events", D1, f"part-{i:03d}.csv") for i in range(6)]
    for key in keys[:3]:
        inbox.put(key)
    if isinstance(inbox.store, LocalObjectStore):  # force one shared timestamp
        stamp = time.time()
        for key in keys[:3]:
            os.utime(inbox.store._path(key), (stamp, stamp))
    inbox.tick()
    for key in keys[3:]:
        inbox.put(key)
    if isinstance(inbox.store, LocalObjectStore):
        for key in keys[3:]:
            os.utime(inbox.store._path(key), (stamp, stamp))
    result = inbox.tick()
    assert bronze_runs(result) == {D1.isoformat(): ["events"]}
    assert result.run_requests[0].tags["ecommerce/new_objects"] == "3"
    assert inbox.tick().run_requests == []


def test_overwrite_is_a_new_run(inbox: Inbox) -> None:
    key = day_key("products", D1, "p.csv")
    inbox.put(key)
    first = inbox.tick().run_requests[0].run_key
    assert inbox.tick().run_requests == []
    inbox.put(key, CSV + b"2,b\n")  # same name, new generation
    again = inbox.tick().run_requests
    assert [r.partition_key for r in again] == [D1.isoformat()]
    assert again[0].run_key != first


def test_deleted_or_archived_objects_never_cause_a_run(inbox: Inbox, tmp_path: Path) -> None:
    keys = [day_key("orders", D1, f"{n}.csv") for n in "abc"]
    for key in keys:
        inbox.put(key)
    inbox.tick()
    archive = LocalObjectStore(root=str(tmp_path / "archive"))
    inbox.store.copy_to(keys[0], archive)  # archival: copy, then leave the inbox
    inbox.store.delete(keys[0])
    inbox.store.delete(keys[1])
    assert inbox.tick().run_requests == []
    assert set(InboxCursor.from_json(inbox.cursor).seen) == {keys[2]}
    inbox.put(keys[1])  # the same name uploaded again is new data
    assert bronze_runs(inbox.tick()) == {D1.isoformat(): ["orders"]}


def test_restart_from_a_stored_cursor(inbox: Inbox) -> None:
    inbox.put(day_key("users", D1, "u.csv"))
    inbox.tick()
    stored = inbox.cursor
    with dg.instance_for_test() as fresh:  # a restarted daemon: new process, stored cursor
        restarted = Inbox(inbox.store, fresh, stored)
        assert restarted.tick().run_requests == []
        inbox.put(day_key("users", D1, "v.csv"))
        assert bronze_runs(restarted.tick()) == {D1.isoformat(): ["users"]}


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
    again = inbox.tick()  # still in the inbox, but already recorded: not retried
    assert again.run_requests == []
    inbox.put("stray.csv", b"new content")  # a new generation is a new object
    assert [o["key"] for o in reject_runs(inbox.tick())] == ["stray.csv"]


def test_pagination_finds_every_object(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMMERCE_SENSOR_PAGE_SIZE", "7")
    for i in range(30):
        inbox.put(day_key("order_items", D1, f"{i:02d}.csv"))
    result = inbox.tick()
    assert result.run_requests[0].tags["ecommerce/new_objects"] == "30"
    assert len(InboxCursor.from_json(inbox.cursor).seen) == 30


def test_undated_objects_are_dated_by_upload_day(inbox: Inbox) -> None:
    inbox.put("inventory_items/loose.csv")
    assert bronze_runs(inbox.tick()) == {TODAY.isoformat(): ["inventory_items"]}
    assert inbox.tick().run_requests == []


def test_future_days_wait_for_their_partition(inbox: Inbox) -> None:
    """The last daily partition is today's (UTC): a run for tomorrow could not start."""
    inbox.put(day_key("orders", TODAY + dt.timedelta(days=1), "tomorrow.csv"))
    inbox.put(day_key("orders", TODAY + dt.timedelta(days=5), "early.csv"))
    result = inbox.tick()
    assert result.run_requests == []
    assert daily_partitions.get_last_partition_key() == TODAY.isoformat()
    assert "early.csv" not in json.dumps(InboxCursor.from_json(inbox.cursor).seen)


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
    big_inbox.put(day_key("users", D1, "new.csv"))
    result, listed = big_inbox.listed_during_tick()
    assert bronze_runs(result) == {D1.isoformat(): ["users"]}
    assert listed == 4
    # A late first landing on an old day that was never ingested is still found.
    big_inbox.put(day_key("users", dt.date(2024, 6, 1), "late.csv"))
    result, listed = big_inbox.listed_during_tick()
    assert bronze_runs(result) == {"2024-06-01": ["users"]}
    assert listed == 5


def test_a_day_being_ingested_is_not_requested_again(inbox: Inbox,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """An old day's tables finish one by one; no tick requests the rest a second time."""
    monkeypatch.setenv("ECOMMERCE_SENSOR_DISCOVERY_S", "0")
    old = TODAY - dt.timedelta(days=10)
    inbox.put(day_key("events", TODAY, "today.csv"))
    inbox.tick()
    inbox.instance.report_runless_asset_event(dg.AssetMaterialization(
        asset_key=["bronze", "events"], partition=TODAY.isoformat()))
    tables = ["orders", "products", "users"]
    for table in tables:
        inbox.put(day_key(table, old, "late.csv"))
    assert bronze_runs(inbox.tick()) == {old.isoformat(): tables}
    for table in tables:
        inbox.instance.report_runless_asset_event(dg.AssetMaterialization(
            asset_key=["bronze", table], partition=old.isoformat()))
        assert inbox.tick().run_requests == []
    # Ingested and outside the recent days: nothing left to remember about that day.
    assert list(InboxCursor.from_json(inbox.cursor).seen) == [day_key("events", TODAY,
                                                                      "today.csv")]


def test_rejects_job_records_and_quarantines_unroutable_objects(ecommerce_home: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """The sensor's reject request, executed: registry rows with reasons, objects moved."""
    from ecommerce_assets.inbox_rejects import inbox_rejects
    from resources.deployment import build_resources

    monkeypatch.setenv("ECOMMERCE_SENSOR_DISCOVERY_S", "0")
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
