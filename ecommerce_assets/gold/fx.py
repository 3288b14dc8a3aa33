"""``gold/fx_rates``: the exchange rates gold converts prices with, from the ``FxRates`` resource.

The asset asks the resource for rates, at least for the currencies silver uses (a live source
fetches just those), and replaces ``gold.fx_rates`` with them. It depends on the silver tables
that carry a ``*_currency`` column: whenever they change, the rates are re-read and their
coverage re-checked, and the marts (which join this table) refresh after it. Its blocking
``covers_silver_currencies`` check stops the marts when a currency in use has no rate.
"""

import dagster as dg

from ecommerce_assets import catalog, table_checks
from ecommerce_assets.automation import WAREHOUSE_POOL, refresh_on_upstream_change
from ecommerce_assets.gold.schemas import FxRates as FxRatesModel
from ecommerce_assets.gold.spec import FX_RATES_TABLE
from ecommerce_assets.silver.spec import SILVER_TABLES
from ecommerce_assets.sqltables import definition_metadata, preview_markdown
from resources import settings
from resources.fx_rates import FxRates
from resources.warehouse import Warehouse

ASSET_KEY = dg.AssetKey(["gold", "fx_rates"])
COVERAGE_CHECK = "covers_silver_currencies"
SCHEMA = FxRatesModel.to_schema()
# silver table -> its currency columns (cost_currency, sale_price_currency, ...).
CURRENCY_COLUMNS: dict[str, tuple[str, ...]] = {
    name: cols for name, table in SILVER_TABLES.items()
    if (cols := tuple(c for c in table.schema.columns if c.endswith("_currency")))}


def currencies_in_use(warehouse: Warehouse) -> list[str]:
    """Distinct currency codes of every silver currency column (tables not built yet skipped)."""
    selects = [f"SELECT {col} AS currency FROM {SILVER_TABLES[name].warehouse_table}"
               for name, cols in CURRENCY_COLUMNS.items()
               if warehouse.table_exists(SILVER_TABLES[name].warehouse_table) for col in cols]
    if not selects:
        return []
    rows = warehouse.query_arrow(warehouse.transpile(
        "SELECT DISTINCT currency FROM (" + " UNION ALL ".join(selects) + ") "
        "WHERE currency IS NOT NULL ORDER BY currency")).to_pylist()
    return [r["currency"] for r in rows]


@dg.asset(
    key=ASSET_KEY,
    group_name="gold",
    deps=[dg.AssetKey(["silver", name]) for name in CURRENCY_COLUMNS],
    kinds={"python", settings.warehouse_kind()},
    description="Exchange rates (USD per unit of each currency) from the `fx_rates` resource "
                "(default: the static reference rates shipped in `resources/fx_rates.py`). "
                "Gold converts prices by joining this table.",
    metadata={**definition_metadata(FX_RATES_TABLE, SCHEMA),
              **catalog.code_references(python=[(FxRatesModel, "Pandera model (contract)"),
                                                 (FxRates, "FxRates resource")])},
    tags=catalog.tags("gold", "fx_rates"),
    owners=catalog.owners("gold"),
    check_specs=[
        table_checks.schema_spec(ASSET_KEY, "gold"),
        dg.AssetCheckSpec(COVERAGE_CHECK, asset=ASSET_KEY, blocking=True,
                          description="Every currency used in silver has a rate"),
    ],
    automation_condition=refresh_on_upstream_change(),
    pool=WAREHOUSE_POOL,
)
def gold_fx_rates(context: dg.AssetExecutionContext, warehouse: Warehouse,
                  fx_rates: FxRates) -> dg.MaterializeResult:
    with warehouse.session():  # one DuckDB connection for the step's queries
        return _load_rates(context, warehouse, fx_rates)


def _load_rates(context: dg.AssetExecutionContext, warehouse: Warehouse,
                fx_rates: FxRates) -> dg.MaterializeResult:
    used = currencies_in_use(warehouse)
    rates = fx_rates.rates(used)
    rows = warehouse.load_table(FX_RATES_TABLE, rates)
    missing = sorted(set(used) - set(rates["currency"].to_pylist()))
    context.log.info(f"{FX_RATES_TABLE}: {rows} rates; currencies in silver {used}")
    coverage = dg.AssetCheckResult(
        check_name=COVERAGE_CHECK, passed=not missing, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"currencies_in_silver": dg.MetadataValue.json(used),
                  "without_rate": dg.MetadataValue.json(missing)})
    return dg.MaterializeResult(
        metadata={"dagster/row_count": rows,
                  "rates": dg.MetadataValue.json(
                      {r["currency"]: r["rate_to_usd"] for r in rates.to_pylist()}),
                  "preview": dg.MetadataValue.md(
                      preview_markdown(warehouse, FX_RATES_TABLE, ["currency"]))},
        check_results=[table_checks.schema_result(warehouse, FX_RATES_TABLE, SCHEMA), coverage])
