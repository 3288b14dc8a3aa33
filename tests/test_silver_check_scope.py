"""Silver's checks read what a refresh changed, and keep reading it until they pass.

Through Dagster on generated data: the first build checks every row; a landing day's
refresh checks exactly the rows of the keys it recomputed; a row a check failed on stays in
scope for the next refreshes (one that brings nothing new included) until the checks pass,
and only then is the scope emptied.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import dagster as dg

from ecommerce_assets.bronze.assets import bronze_assets
from ecommerce_assets.silver.assets import silver_assets
from ecommerce_assets.silver.refresh import unchecked_table
from ecommerce_assets.silver.spec import SILVER_TABLES
from resources.deployment import build_resources
from tests.conftest import REPO

SEED, DAY1, DAY2 = (dt.date(2026, 11, 20) + dt.timedelta(days=n) for n in range(3))
ORDERS = SILVER_TABLES["orders"]


def _count(resources: dict, sql: str) -> int:
    return int(resources["warehouse"].query_arrow(sql).to_pylist()[0]["n"])


def _load_bronze(resources: dict, day: dt.date) -> None:
    result = dg.materialize(bronze_assets, resources=resources, partition_key=day.isoformat())
    assert result.success


def _silver(resources: dict) -> dg.ExecuteInProcessResult:
    return dg.materialize([*silver_assets, *bronze_assets], resources=resources,
                          selection=dg.AssetSelection.groups("silver"), raise_on_error=False)


def _orders(result: dg.ExecuteInProcessResult) -> tuple[dict, dg.AssetCheckEvaluation]:
    """The orders materialization's metadata and its pandera_schema evaluation."""
    key = dg.AssetKey(["silver", "orders"])
    (mat,) = [e.step_materialization_data.materialization
              for e in result.get_asset_materialization_events() if e.asset_key == key]
    (schema,) = [c for c in result.get_asset_check_evaluations()
                 if c.asset_key == key and c.check_name == "pandera_schema"]
    return {k: v.value for k, v in mat.metadata.items()}, schema


def test_checks_read_the_changed_keys_until_they_pass(ecommerce_home: Path) -> None:
    env = {"ECOMMERCE_HOME": str(ecommerce_home), "PATH": ""}
    for args in (["seed.py", "--scale", "0.005", "--date", SEED.isoformat()],
                 ["generate.py", "--days", "2", "--rows", "200", "--date", DAY2.isoformat()]):
        subprocess.run([sys.executable, f"test_data/thelook_ecommerce/{args[0]}", *args[1:]],
                       cwd=REPO, env=env, check=True, capture_output=True)
    resources = build_resources("local")
    unchecked = f"SELECT COUNT(*) AS n FROM {unchecked_table(ORDERS)}"

    # The first build: every row checked, then the scope emptied.
    _load_bronze(resources, SEED)
    first = _silver(resources)
    assert first.success
    metadata, schema = _orders(first)
    assert metadata["checked"] == "every row"
    assert schema.metadata["rows_checked"].value == metadata["dagster/row_count"] > 0
    assert "bronze_distinct_keys" in metadata  # whole-table figures on a whole-table check
    assert all(_count(resources, f"SELECT COUNT(*) AS n FROM {unchecked_table(t)}") == 0
               for t in SILVER_TABLES.values())

    # A landing day: exactly the silver rows of the keys it brought are checked.
    _load_bronze(resources, DAY1)
    second = _silver(resources)
    assert second.success
    metadata, schema = _orders(second)
    day1_rows = _count(resources, f"SELECT COUNT(*) AS n FROM silver.orders WHERE order_id IN "
                                  f"(SELECT order_id FROM bronze.orders "
                                  f"WHERE landing_date = DATE '{DAY1}')")
    assert 0 < schema.metadata["rows_checked"].value == day1_rows < metadata["dagster/row_count"]
    assert "bronze_distinct_keys" not in metadata
    assert _count(resources, unchecked) == 0

    # A refresh wrote a bad row (simulated: a day-1 order broken, its key recorded as a
    # refresh records it). The next landing's check fails on it, with the new day's keys.
    bad = _count(resources, f"SELECT MIN(order_id) AS n FROM bronze.orders "
                            f"WHERE landing_date = DATE '{DAY1}'")
    resources["warehouse"].execute(f"UPDATE silver.orders SET num_of_item = 0 "
                                   f"WHERE order_id = {bad}")
    resources["warehouse"].execute(f"INSERT INTO {unchecked_table(ORDERS)} VALUES ({bad})")
    _load_bronze(resources, DAY2)
    third = _silver(resources)
    assert not third.success  # the blocking check failed
    _, schema = _orders(third)
    assert not schema.passed
    assert schema.metadata["failures"].value == [
        {"column": "num_of_item", "check": "greater_than_or_equal_to", "failures": 1}]
    in_scope = _count(resources, unchecked)
    assert in_scope > 1  # the bad key and day 2's keys stay in scope

    # Nothing new lands, the row is fixed: the unchanged refresh still checks the scope,
    # passes, and only then empties it.
    resources["warehouse"].execute(f"UPDATE silver.orders SET num_of_item = 1 "
                                   f"WHERE order_id = {bad}")
    fourth = _silver(resources)
    assert fourth.success
    metadata, schema = _orders(fourth)
    assert metadata["refresh_mode"] == "unchanged"
    assert metadata["checked"] == (f"the rows of {in_scope} key(s) changed since the checks "
                                   "last passed")
    assert schema.passed and schema.metadata["rows_checked"].value > 1
    assert _count(resources, unchecked) == 0
    fifth = _silver(resources)  # and with nothing left to check, nothing is read
    assert _orders(fifth)[1].metadata["rows_checked"].value == 0
