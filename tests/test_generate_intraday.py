"""Intra-day batches: generate.py --at lands more than one batch per day, `make land` one now."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pyarrow.compute as pc

from resources.object_store import LocalObjectStore
from sensors.inbox import Ingested, Policy, plan_tick
from test_data.thelook_ecommerce import generate as generate_cli
from test_data.thelook_ecommerce import seed as seed_cli
from test_data.thelook_ecommerce.state import GeneratorState
from tests.conftest import REPO

DAY = dt.date(2026, 11, 2)


def batch_keys(inbox: Path) -> list[str]:
    return sorted(p.relative_to(inbox).as_posix() for p in inbox.rglob("batch_*") if p.is_file())


def test_batches_of_one_day_land_in_consecutive_windows(ecommerce_home: Path, capsys) -> None:
    inbox = ecommerce_home / "buckets" / "inbox"
    assert seed_cli.main(["--scale", "0.002", "--date", "2026-11-01"]) == 0
    assert generate_cli.main(["--date", DAY.isoformat(), "--at", "09:00", "--rows", "40"]) == 0
    first = batch_keys(inbox)
    after_first = GeneratorState.load(ecommerce_home / "generator").next_ids["orders"]
    assert generate_cli.main(["--date", DAY.isoformat(), "--at", "13:30", "--rows", "40"]) == 0
    second = sorted(set(batch_keys(inbox)) - set(first))
    # Seven distinct files per batch, in the day folders the inbox sensor watches.
    assert len(first) == len(second) == 7
    assert {k.rsplit("/", 1)[0] for k in second} == {k.rsplit("/", 1)[0] for k in first}
    assert all(k.endswith("/batch_0002.csv") and f"/date={DAY}/" in k for k in second)
    manifests = sorted((ecommerce_home / "generator" / "manifests").glob("batch-*.json"))
    windows = [json.loads(m.read_text())["window"] for m in manifests]
    assert windows == [[f"{DAY} 00:00:00 UTC", f"{DAY} 09:00:00 UTC"],
                       [f"{DAY} 09:00:00 UTC", f"{DAY} 13:30:00 UTC"]]
    # The second batch's new orders (ids continuing the first's) were created in its window.
    state = GeneratorState.load(ecommerce_home / "generator")
    assert state.batches == 2 and state.last_date == DAY.isoformat()
    orders = state.tables["orders"]
    ids = orders["order_id"]
    new = orders.filter(pc.and_(pc.greater_equal(ids, after_first),
                                pc.less(ids, state.next_ids["orders"])))
    assert new.num_rows == 40 and len(set(ids.to_pylist())) == orders.num_rows
    created = new["created_at"].to_pylist()
    assert min(created) >= dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
    assert max(created) < dt.datetime(2026, 11, 2, 13, 30, tzinfo=dt.UTC)
    # The rest of the day can still land; after that, the day is closed.
    capsys.readouterr()
    assert generate_cli.main(["--date", DAY.isoformat(), "--at", "13:30", "--rows", "5"]) == 2
    assert "must land after 2026-11-02 13:30:00 UTC" in capsys.readouterr().err
    assert generate_cli.main(["--date", DAY.isoformat(), "--rows", "40"]) == 0
    assert generate_cli.main(["--date", DAY.isoformat(), "--rows", "40"]) == 2
    assert "batches must land after 2026-11-02" in capsys.readouterr().err
    assert len(batch_keys(inbox)) == 21


def test_the_inbox_sensor_requests_a_second_batch_of_an_ingested_day(
        ecommerce_home: Path) -> None:
    inbox = ecommerce_home / "buckets" / "inbox"
    assert seed_cli.main(["--scale", "0.002", "--date", "2026-11-01"]) == 0
    assert generate_cli.main(["--date", DAY.isoformat(), "--at", "09:00", "--rows", "20"]) == 0
    store = LocalObjectStore(root=str(inbox))
    read = {o.key: o.generation for o in store.list()}  # the seed and the first batch
    assert generate_cli.main(["--date", DAY.isoformat(), "--at", "10:00", "--rows", "20"]) == 0

    def ingested(table: str, day: dt.date) -> Ingested:  # bronze read the first batch
        return Ingested(storage_id=1, objects={k: g for k, g in read.items()
                                               if k.startswith(f"{table}/date={day}/")})

    plan = plan_tick(store, None, tables={k.split("/")[0] for k in read}, now=dt.datetime(
        2026, 11, 2, 11, tzinfo=dt.UTC), policy=Policy(), materialized=lambda t: {DAY},
        ingested=ingested)
    assert not plan.rejects
    assert [r.day for r in plan.requests] == [DAY]
    owed = {o.key for objects in plan.requests[0].tables.values() for o in objects}
    assert owed == {o.key for o in store.list()} - set(read)
    assert owed == {k.replace("batch_0001", "batch_0002") for k in read if "batch_0001" in k}


def test_make_land_lands_a_batch_now_into_the_demo_inbox(ecommerce_home: Path) -> None:
    home = ecommerce_home
    env = {**os.environ, "ROWS": "20"}  # ECOMMERCE_HOME: the fixture's
    today = dt.datetime.now(dt.UTC).date()
    assert seed_cli.main(["--scale", "0.002", "--date", str(today - dt.timedelta(days=1))]) == 0
    for expected in (1, 2):  # twice the same day: both land
        done = subprocess.run(["make", "--no-print-directory", "land"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.strip().splitlines()[-1])["batch"] == expected
    orders = sorted((home / "buckets" / "inbox" / "orders" / f"date={today}").iterdir())
    assert [p.name for p in orders] == ["batch_0001.csv", "batch_0002.csv"]
