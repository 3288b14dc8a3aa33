"""Benchmark: one inbox-sensor tick vs ``dagster_gcp``'s ``get_gcs_keys`` as the bucket grows.

    python bench/sensor.py [--sizes 1000 10000 100000] [--repeats 5]

For each size N, a fake-gcs-server bucket holds N old objects spread over 100 ingested
landing days of the seven tables (preloaded on its filesystem backend: the memory backend
takes time quadratic in N to load). Then, on the same server in the same run:
- ``tick`` : ``inbox_sensor`` evaluated with a stored cursor (as the daemon does), after 5 new
  objects landed today; the median of ``--repeats`` ticks;
- ``discovery tick``: the same with the periodic discovery listing (bucket root and table
  folders) forced on;
- ``get_gcs_keys``: the stock helper on the same bucket with ``since_key`` = the newest key,
  the way its docstring's sensor uses it; the median of 3 calls;
- ``emulator floor``: one listing of an empty prefix. fake-gcs-server walks every stored
  object on every listing call (real GCS does not), so this is the part of each call that
  grows with N whatever the client asks for.
Reports objects listed and listing calls per tick, which are what the sensor controls.
Targets (issue): tick <= 1 s and flat in N; >= 10x faster than get_gcs_keys at 100k.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import dagster as dg  # noqa: E402
from dagster_gcp.gcs.sensor import get_gcs_keys  # noqa: E402

from resources.object_store import GCSObjectStore  # noqa: E402
from sensors.inbox_sensor import inbox_sensor  # noqa: E402
from tests.fake_gcs import fake_gcs_server, preload  # noqa: E402

TABLES = ["orders", "order_items", "users", "products", "inventory_items", "events",
          "distribution_centers"]
OLD_DAYS = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(100)]
CSV = b"id,name\n1,a\n"
BUCKET = "inbox"


def old_keys(n: int) -> list[str]:
    return [f"{TABLES[i % 7]}/date={OLD_DAYS[(i // 7) % 100].isoformat()}/old-{i:06d}.csv"
            for i in range(n)]


class Ticker:
    def __init__(self, store: GCSObjectStore, instance: dg.DagsterInstance) -> None:
        self.store, self.instance, self.cursor = store, instance, None

    def tick(self) -> tuple[float, int, int]:
        """Seconds, objects listed and run requests of one evaluation."""
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor,
                                          resources={"inbox_store": self.store})
        before = self.store.objects_listed
        start = time.perf_counter()
        result = inbox_sensor(context)
        seconds = time.perf_counter() - start
        self.cursor = result.cursor
        return seconds, self.store.objects_listed - before, len(result.run_requests)


def count_calls(fn) -> int:
    """Object-listing HTTP requests made by fn(), in any client of this process (the sensor
    works on its own copy of the store resource, hence its own client)."""
    import requests

    calls = 0
    original = requests.Session.request

    def counting(self, method, url, *args, **kwargs):
        nonlocal calls
        if method == "GET" and url.split("?")[0].endswith("/o"):
            calls += 1
        return original(self, method, url, *args, **kwargs)

    requests.Session.request = counting
    try:
        fn()
    finally:
        requests.Session.request = original
    return calls


def measure(n: int, workdir: Path, repeats: int) -> dict:
    root = workdir / f"gcs-{n}"
    written = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    if not preload(root, BUCKET, old_keys(n), CSV, written):
        raise SystemExit("this filesystem has no user extended attributes: cannot preload")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    with fake_gcs_server(root) as endpoint, dg.instance_for_test() as instance:
        for table in TABLES:
            for day in OLD_DAYS:
                instance.report_runless_asset_event(dg.AssetMaterialization(
                    asset_key=["bronze", table], partition=day.isoformat()))
        store = GCSObjectStore(bucket=BUCKET, endpoint=endpoint)
        ticker = Ticker(store, instance)
        os.environ["ECOMMERCE_SENSOR_DISCOVERY_S"] = "0"
        ticker.tick()  # the first (discovery) tick stores the cursor
        steady, discovery, listed, requests = [], [], [], []
        for phase, samples in (("3600", steady), ("0", discovery)):
            os.environ["ECOMMERCE_SENSOR_DISCOVERY_S"] = phase
            for r in range(repeats):
                for i in range(5):
                    store.write_bytes(f"orders/date={today}/new-{phase}-{r}-{i}.csv", CSV)
                seconds, objects, runs = ticker.tick()
                samples.append(seconds)
                listed.append(objects)
                requests.append(runs)
        os.environ["ECOMMERCE_SENSOR_DISCOVERY_S"] = "3600"
        calls_steady = count_calls(ticker.tick)
        os.environ["ECOMMERCE_SENSOR_DISCOVERY_S"] = "0"
        calls_discovery = count_calls(ticker.tick)
        client = store._gcs()
        newest = sorted(client.list_blobs(BUCKET), key=lambda b: b.updated)[-1].name
        stock = []
        for _ in range(3):
            start = time.perf_counter()
            keys = get_gcs_keys(BUCKET, since_key=newest, gcs_session=client)
            stock.append(time.perf_counter() - start)
        assert keys == [], keys
        floor = []
        for _ in range(5):
            start = time.perf_counter()
            list(store.list("nothing-here/"))
            floor.append(time.perf_counter() - start)
    return {"n": n, "tick": statistics.median(steady),
            "discovery": statistics.median(discovery), "objects_listed": max(listed),
            "requests": min(requests), "calls": calls_steady,
            "calls_discovery": calls_discovery, "stock": statistics.median(stock),
            "floor": statistics.median(floor)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-sensor-") as tmp:
        for n in args.sizes:
            rows.append(measure(n, Path(tmp), args.repeats))
            r = rows[-1]
            print(f"{n:>7} stored: tick {r['tick']:.3f} s ({r['calls']} listing calls, "
                  f"{r['objects_listed']} objects listed), discovery tick "
                  f"{r['discovery']:.3f} s ({r['calls_discovery']} calls), get_gcs_keys "
                  f"{r['stock']:.3f} s, emulator floor {r['floor'] * 1000:.0f} ms/call",
                  flush=True)
    print("\n| stored objects | tick | discovery tick | listing calls (tick/discovery) "
          "| objects listed per tick | get_gcs_keys | get_gcs_keys / tick "
          "| emulator floor per call |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']:,} | {r['tick']:.3f} s | {r['discovery']:.3f} s | "
              f"{r['calls']}/{r['calls_discovery']} | {r['objects_listed']} | "
              f"{r['stock']:.2f} s | {r['stock'] / r['tick']:.0f}x | "
              f"{r['floor'] * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
