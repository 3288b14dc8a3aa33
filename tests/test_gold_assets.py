"""The gold assets on generated data: seed + 3 dirty days -> bronze -> silver -> gold.

Invariants that must hold whatever the data: revenue is the same in every mart to the cent,
rates and shares are in [0, 1], every cohort starts at 100%, every US address comes out in
USPS form, foreign-currency prices convert back to the product's USD price; plus the asset
definitions, the heatmap file and the automation from silver to gold.
"""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pytest

from ecommerce_assets.automation import WAREHOUSE_POOL
from ecommerce_assets.bronze.assets import bronze_assets
from ecommerce_assets.gold.assets import HEATMAP_FILE, gold_assets, gold_definitions
from ecommerce_assets.gold.spec import GOLD_TABLES
from ecommerce_assets.silver.assets import silver_assets
from resources.deployment import build_resources
from tests.conftest import LAST_DAY, GeneratedSilver
from tests.test_gold_metrics import heatmap_facts

# A US address of the generator's shapes, standardized: number, optional directional, name,
# suffix, optional unit; city, state code, 5-digit ZIP (all four parts, or no address).
USPS = re.compile(r"^[0-9]+ (?:(?:N|S|E|W|NW|SE) )?[A-Z]+ "
                  r"(?:ST|AVE|RD|BLVD|LN|DR|CT|PL|WAY|PKWY|TER|CIR)"
                  r"(?: (?:APT|STE|UNIT|#) [0-9A-Z]+)?, [A-Z ]+, [A-Z]{2} [0-9]{5}$")


@pytest.fixture(scope="module")
def gold_run(generated_silver: GeneratedSilver) -> tuple[dict, dg.ExecuteInProcessResult]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOMMERCE_HOME", str(generated_silver.home))
        mp.setenv("ECOMMERCE_AS_OF", LAST_DAY.isoformat())
        result = dg.materialize(gold_definitions, resources=generated_silver.resources)
    return generated_silver.resources, result


def query(resources: dict, sql: str) -> list[dict]:
    return resources["warehouse"].query_arrow(sql).to_pylist()


def test_every_check_passes(gold_run) -> None:
    _, result = gold_run
    assert result.success
    checks = {(c.asset_key.path[1], c.check_name): c for c in result.get_asset_check_evaluations()}
    expected = {("fx_rates", "pandera_schema"), ("fx_rates", "covers_silver_currencies"),
                ("daily_sales", "revenue_reconciles")}
    expected |= {(n, "pandera_schema") for n in GOLD_TABLES}
    expected |= {(n, r.name) for n, t in GOLD_TABLES.items() for r in t.rules}
    assert set(checks) == expected
    assert [k for k, c in checks.items() if not c.passed] == []


def test_revenue_is_equal_across_the_marts_to_the_cent(gold_run) -> None:
    resources, _ = gold_run
    (row,) = query(resources, """
        SELECT (SELECT SUM(total_revenue) FROM gold.daily_sales) AS daily,
               (SELECT SUM(total_spend) FROM gold.customer_metrics) AS customers,
               (SELECT SUM(total_revenue) FROM gold.product_performance) AS products,
               (SELECT SUM(sale_price_usd) FROM gold.orders_enriched WHERE is_revenue_item)
                   AS items""")
    cents = {k: round(v * 100) for k, v in row.items()}
    assert len(set(cents.values())) == 1, row
    assert row["daily"] > 10_000  # real money went through, not an empty sum


def test_metric_invariants(gold_run) -> None:
    resources, _ = gold_run
    (row,) = query(resources, """
        SELECT
          (SELECT count(*) FROM gold.customer_metrics WHERE first_order_at > last_order_at)
            AS first_after_last,
          (SELECT count(*) FROM gold.customer_metrics
           WHERE NOT return_rate BETWEEN 0 AND 1) AS customer_rate_out,
          (SELECT count(*) FROM gold.product_performance
           WHERE NOT return_rate BETWEEN 0 AND 1) AS product_rate_out,
          (SELECT count(*) FROM gold.cohort_retention
           WHERE NOT retention_rate BETWEEN 0 AND 1) AS share_out,
          (SELECT count(*) FROM gold.cohort_retention
           WHERE months_since_first_order = 0 AND retention_rate <> 1) AS month_zero_not_one,
          (SELECT count(*) FROM gold.cohort_retention WHERE months_since_first_order = 0)
            AS cohorts,
          (SELECT count(*) FROM gold.customer_metrics) AS customers,
          (SELECT SUM(new_customers) FROM gold.daily_sales) AS new_customers,
          (SELECT SUM(order_count) FROM gold.daily_sales) AS daily_orders,
          (SELECT count(*) FROM silver.orders WHERE status <> 'Cancelled') AS silver_orders,
          (SELECT SUM(lifetime_order_count) FROM gold.customer_metrics) AS customer_orders,
          (SELECT count(*) FROM gold.orders_enriched) AS items,
          (SELECT count(*) FROM silver.order_items i JOIN silver.orders o USING (order_id))
            AS items_with_order,
          (SELECT count(*) FROM gold.customer_metrics
           WHERE churn_flag <> (days_since_last_order > 90)) AS churn_mismatch,
          (SELECT count(*) FROM gold.customer_metrics WHERE churn_flag) AS churned,
          (SELECT count(*) FROM gold.users_enriched) AS users,
          (SELECT count(*) FROM silver.users) AS silver_users""")
    zero = ("first_after_last", "customer_rate_out", "product_rate_out", "share_out",
            "month_zero_not_one", "churn_mismatch")
    assert {k: row[k] for k in zero} == dict.fromkeys(zero, 0)
    assert row["cohorts"] > 12 and 0 < row["churned"] < row["customers"]
    assert row["new_customers"] == row["customers"]  # every customer is new exactly once
    assert row["daily_orders"] == row["silver_orders"] == row["customer_orders"]
    assert row["items"] == row["items_with_order"]
    assert row["users"] == row["silver_users"]


def test_foreign_prices_convert_back_to_the_usd_list_price(gold_run) -> None:
    resources, _ = gold_run
    found = query(resources, """
        SELECT e.sale_price_currency AS currency, count(*) AS n,
               max(abs(e.sale_price_usd - p.retail_price)) AS worst
        FROM gold.orders_enriched e JOIN silver.products p ON p.id = e.product_id
        WHERE p.retail_price_currency = 'USD' GROUP BY 1 ORDER BY 1""")
    by_currency = {r["currency"]: r for r in found}
    assert set(by_currency) == {"EUR", "GBP", "JPY", "USD"}
    # The generator rounded each converted price to its currency's minor unit: back in USD
    # that is within half a minor unit times the rate, plus our rounding to the cent.
    assert by_currency["USD"]["worst"] < 1e-9
    for currency, rate, unit in (("EUR", 1.08, 0.01), ("GBP", 1.27, 0.01), ("JPY", 0.0067, 1)):
        assert by_currency[currency]["worst"] <= rate * unit / 2 + 0.005 + 1e-9, currency


def test_us_addresses_come_out_in_usps_form(gold_run) -> None:
    resources, _ = gold_run
    users = query(resources, "SELECT country, street_address, city, postal_code, "
                             "standardized_address FROM gold.users_enriched")
    us = [u for u in users if u["country"] == "United States" and u["street_address"]]
    assert len(us) > 200
    complete = [u for u in us if u["city"] and u["postal_code"]]
    bad = [(u["street_address"], u["standardized_address"]) for u in complete
           if not USPS.fullmatch(u["standardized_address"] or "")]
    assert bad == []
    # Dirty data drops cities: such an address is not standardized rather than half-formed.
    no_city = [u["standardized_address"] for u in us if not u["city"]]
    assert no_city and set(no_city) == {None}
    assert all(u["standardized_address"] is None for u in users
               if u["country"] != "United States")


def test_the_heatmap_shows_every_cohort(gold_run, generated_silver: GeneratedSilver) -> None:
    resources, result = gold_run
    (cohorts,) = query(resources, "SELECT count(DISTINCT cohort_month) AS n "
                                  "FROM gold.cohort_retention WHERE traffic_source = 'All'")
    facts = heatmap_facts((generated_silver.home / "reports" / HEATMAP_FILE).read_bytes())
    assert int(facts["cohorts"]) == cohorts["n"] > 12
    assert facts["pixels"].shape[0] == cohorts["n"]
    events = {e.asset_key.path[1]: e.step_materialization_data.materialization.metadata
              for e in result.get_asset_materialization_events()}
    assert events["cohort_retention"]["heatmap_cohorts"].value == cohorts["n"]


def test_asset_definitions(gold_run) -> None:
    _, result = gold_run
    keys = [(asset, key) for asset in gold_assets for key in asset.keys]
    assert {key.path[1] for _, key in keys} == {"fx_rates", *GOLD_TABLES}
    events = {e.asset_key.path[1]: e.step_materialization_data.materialization.metadata
              for e in result.get_asset_materialization_events()}
    for asset, key in keys:
        spec = asset.specs_by_key[key]
        name = key.path[1]
        assert key.path[0] == "gold" and spec.group_name == "gold"
        assert spec.automation_condition.get_label() == "refresh_on_upstream_change"
        assert asset.op.pool == WAREHOUSE_POOL
        assert "duckdb" in spec.kinds
        assert spec.metadata["dagster/table_name"] == f"gold.{name}"
        schema = spec.metadata["dagster/column_schema"]
        table = GOLD_TABLES.get(name)
        if table:
            assert [c.name for c in schema.columns] == list(table.schema.columns)
            assert {d.asset_key for d in spec.deps} == {
                dg.AssetKey([d, t]) for d, t in table.reads}
        rows = query(gold_run[0], f"SELECT count(*) AS n FROM gold.{name}")[0]["n"]
        assert events[name]["dagster/row_count"].value == rows > 0
        assert events[name]["preview"].value.startswith("| ")


def test_a_silver_update_requests_the_gold_tables_downstream(ecommerce_home: Path) -> None:
    defs = dg.Definitions(assets=[*bronze_assets, *silver_assets, *gold_definitions],
                          resources=build_resources("local"))
    with dg.instance_for_test() as instance:
        for key in (k for a in [*silver_assets, *gold_assets] for k in a.keys):  # up to date
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert result.total_requested == 0
        instance.report_runless_asset_event(
            dg.AssetMaterialization(dg.AssetKey(["silver", "orders"])))
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                   cursor=result.cursor)
        requested = {r.key.path[1] for r in result.results
                     if r.true_subset.size and r.key.path[0] == "gold"}
        # Everything downstream of orders, in one evaluation (so one run); not fx_rates.
        assert requested == set(GOLD_TABLES)


def test_definitions_include_gold(ecommerce_home: Path) -> None:
    from ecommerce_assets import definitions

    repo = definitions.defs.get_repository_def()
    assert {"fx_rates", "address_standardizer"} <= set(repo.get_top_level_resources())
    graph = definitions.defs.resolve_asset_graph()
    assert {dg.AssetKey(["gold", t]) for t in ["fx_rates", *GOLD_TABLES]} <= (
        graph.get_all_asset_keys())
    checks = {(k.asset_key.path[1], k.name) for k in graph.asset_check_keys}
    assert {("daily_sales", "revenue_reconciles"), ("fx_rates", "covers_silver_currencies"),
            ("users_enriched", "pandera_schema")} <= checks
