"""``as_of`` is a cut-off for every gold table: a back-dated report sees the shop as it was.

The hand-built silver of ``test_gold_metrics`` (orders from January to June 2026), with each
sold inventory unit's ``sold_at`` at its order's time, reported as of 2026-01-12: only what was
ordered, signed up or sold by the end of that day counts, and recency is never negative. The
blocking ``recency_not_negative`` rule is shown to fail on a negative value.
"""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import pyarrow as pa
import pytest

from ecommerce_assets import table_checks
from ecommerce_assets.gold.assets import AS_OF_TAG, gold_definitions
from ecommerce_assets.gold.checks import check_specs
from ecommerce_assets.gold.spec import GOLD_TABLES
from resources.addresses import UspsAddressStandardizer
from resources.fx_rates import StaticFxRates
from resources.warehouse import DuckDBWarehouse
from tests.test_gold_metrics import AS_OF_TABLES, ITEMS, ORDERS, rows, silver_rows, ts

BACK_DATED = dt.date(2026, 1, 12)  # after order 1 and 6 (2026-01-10), before the others


def silver_sold_when_ordered() -> dict[str, list[dict]]:
    """The metrics fixture, each sold unit's sold_at at its order's created_at (the fixture
    itself puts every sale on 2026-01-10)."""
    ordered = {o[0]: ts(o[3]) for o in ORDERS}
    sold = {unit: ordered[order] for _, order, _, unit, *_ in ITEMS
            if unit is not None and order in ordered}
    tables = silver_rows()
    tables["inventory_items"] = [{**u, "sold_at": sold.get(u["id"])}
                                 for u in tables["inventory_items"]]
    return tables


@pytest.fixture(scope="module")
def back_dated(empty_bronze: DuckDBWarehouse, tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("gold_as_of")
    shutil.copyfile(empty_bronze.path, work / "w.duckdb")
    wh = DuckDBWarehouse(path=str(work / "w.duckdb"))
    for table, data in silver_sold_when_ordered().items():
        wh.execute(f"DELETE FROM silver.{table}")
        wh.load_table(f"silver.{table}", pa.Table.from_pylist(data), mode="append")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOMMERCE_HOME", str(work / "home"))
        mp.delenv("ECOMMERCE_AS_OF", raising=False)
        # One run tag sets the reporting date of every gold step.
        result = dg.materialize(
            gold_definitions,
            resources={"warehouse": wh, "fx_rates": StaticFxRates(),
                       "address_standardizer": UspsAddressStandardizer()},
            tags={AS_OF_TAG: BACK_DATED.isoformat()})
    assert result.success
    return wh, result


def test_every_check_passes_on_a_back_dated_report(back_dated) -> None:
    _, result = back_dated
    as_of = {e.asset_key.path[-1]: e.step_materialization_data.materialization.metadata.get(
        "as_of") for e in result.get_asset_materialization_events()}
    assert {t: v.value for t, v in as_of.items() if v} == dict.fromkeys(
        AS_OF_TABLES, BACK_DATED.isoformat())
    checks = {(c.asset_key.path[1], c.check_name): c.passed
              for c in result.get_asset_check_evaluations()}
    assert checks[("customer_metrics", "recency_not_negative")] is True
    assert [k for k, passed in checks.items() if not passed] == []


def test_later_orders_and_items_are_not_counted(back_dated) -> None:
    wh, _ = back_dated
    # Orders 1 (items 1, 2) and 6 (item 8, cancelled) were placed by 2026-01-12.
    assert sorted(rows(wh, "orders_enriched", "order_item_id")) == [1, 2, 8]
    assert sorted(rows(wh, "daily_sales", "sale_date")) == [dt.date(2026, 1, 10)]
    customers = rows(wh, "customer_metrics", "user_id")
    assert set(customers) == {1}  # Bo's only order by then was cancelled
    ann = customers[1]
    assert (ann["lifetime_order_count"], ann["last_order_at"]) == (1, ts("2026-01-10 10:00"))
    # Without the cut-off: 2026-01-12 - 2026-05-20 = -128 days (order 3 counted).
    assert ann["days_since_last_order"] == 2


def test_later_sign_ups_are_not_counted(back_dated) -> None:
    wh, _ = back_dated
    users = rows(wh, "users_enriched", "user_id")
    assert set(users) == {1, 2}  # users 3 (2026-01-15) and 4 (2026-02-01) signed up later
    assert users[1]["churn_risk_score"] == pytest.approx(0.6 * 2 / 180 + 0.25, abs=1e-4)


def test_later_sales_leave_inventory_on_hand(back_dated) -> None:
    wh, _ = back_dated
    products = rows(wh, "product_performance", "product_id")
    # Jeans: unit 101 sold by then (item 1); 102-106 were sold later, 107-108 never: 7 on hand.
    assert products[10]["units_sold"] == 1
    assert products[10]["inventory_turnover_ratio"] == pytest.approx(1 / 7)
    # Dress: 201 sold (item 2); 203's sale (item 8) was cancelled, so it is on hand with 202
    # (sold in May), 204 and 205.
    assert products[20]["units_sold"] == 1
    assert products[20]["inventory_turnover_ratio"] == pytest.approx(1 / 4)


def test_cohorts_end_at_the_cut_off(back_dated) -> None:
    wh, _ = back_dated
    found = wh.query_arrow(
        "SELECT traffic_source, cohort_month, months_since_first_order, retention_rate "
        "FROM gold.cohort_retention ORDER BY ALL").to_pylist()
    january = dt.date(2026, 1, 1)
    assert found == [{"traffic_source": s, "cohort_month": january,
                      "months_since_first_order": 0, "retention_rate": 1.0}
                     for s in ("All", "Search")]


def test_negative_recency_fails_a_blocking_check(tmp_path) -> None:
    table = GOLD_TABLES["customer_metrics"]
    (rule,) = [r for r in table.rules if r.name == "recency_not_negative"]
    (spec,) = [s for s in check_specs(table) if s.name == rule.name]
    assert spec.blocking
    wh = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    wh.load_table("gold.customer_metrics",
                  pa.table({"user_id": [1, 2], "days_since_last_order": [3, -128]}))
    result = table_checks.rule_result(wh, table.warehouse_table, rule)
    assert (result.passed, result.severity) == (False, dg.AssetCheckSeverity.ERROR)
    assert result.metadata["violations"].value == 1
