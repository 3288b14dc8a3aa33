"""Acceptance: gold built incrementally equals a full refresh of the same silver, row for row.

The scenario of tests/test_silver_incremental.py (a seed, three dirty days in two loads, a
backfilled seed day, objects of a day re-landed with corrected rows: rows dropped, so silver
deletes keys, statuses and costs changed, a user rejected, brands re-spelled) drives bronze and
silver; after every step gold is materialized through Dagster (every gold asset and check, the
reporting date a run tag). Then every gold table must equal what its whole SELECT gives on the
silver of that moment (money to the cent; other floats to 1e-9, as an average's last bits
depend on the order rows are summed in), and the keyed tables must have been refreshed by key,
not rebuilt. Moving only ``as_of`` must rebuild them (recency and churn move with it), and a
full refresh through run config must leave every row as the incremental refreshes left it.
Run on the embedded default (DuckDB + folders) and on the BigQuery + GCS emulators.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from ecommerce_assets.gold.assets import AS_OF_TAG, gold_definitions
from ecommerce_assets.gold.refresh import FULL, INCREMENTAL, KEYED, UNCHANGED
from ecommerce_assets.gold.spec import GOLD_TABLES
from resources.deployment import build_resources
from tests.emulators import emulators, gcp_env  # noqa: F401  (fixtures)
from tests.test_silver_incremental import (
    CORRECTED_DAY,
    DAYS,
    generate,
    load_bronze,
    query,
    refresh_silver,
    reland_corrected,
)

AS_OF = DAYS[-1]


def normalized(rows: list[dict]) -> list[dict]:
    return [{k: round(v, 9) if isinstance(v, float) else v for k, v in r.items()}
            for r in rows]


def gold_rows(resources: dict, name: str, source: str | None = None) -> list[dict]:
    """The rows of a gold table (or of ``source``, a subquery of its columns), in key order."""
    table = GOLD_TABLES[name]
    order = ", ".join(table.key_columns)
    return normalized(query(resources, f"SELECT * FROM {source or table.warehouse_table} "
                                       f"ORDER BY {order}"))


def materialize_gold(resources: dict, as_of: dt.date = AS_OF,
                     full_refresh: bool = False) -> dict[str, str]:
    """Every gold asset and check in one run; name -> refresh mode."""
    config = {"ops": {f"gold__{n}": {"config": {"full_refresh": True}} for n in GOLD_TABLES}}
    result = dg.materialize(gold_definitions, resources=resources,
                            tags={AS_OF_TAG: as_of.isoformat()},
                            run_config=config if full_refresh else None)
    assert result.success
    failed = [(c.asset_key.path[-1], c.check_name)
              for c in result.get_asset_check_evaluations() if not c.passed]
    assert failed == []
    return {e.asset_key.path[-1]: e.step_materialization_data.materialization.metadata[
        "refresh_mode"].value for e in result.get_asset_materialization_events()
        if "refresh_mode" in e.step_materialization_data.materialization.metadata}


def assert_equals_full_select(resources: dict, step: str, as_of: dt.date = AS_OF) -> None:
    """Every gold table equals its whole SELECT now (in dependency order, so each SELECT
    reads gold tables already shown equal to theirs)."""
    for name, table in GOLD_TABLES.items():
        if table.seams:  # the standardizer's SELECT is spliced in by the asset; compare rows
            continue    # of the other columns through the SQL file's stand-in
        want = gold_rows(resources, name, f"(\n{table.select_sql(as_of=as_of)}\n)")
        got = gold_rows(resources, name)
        assert len(got) == len(want) > 0, (step, name)
        assert got == want, (step, name)
    users = GOLD_TABLES["users_enriched"]
    columns = ", ".join(c for c in users.schema.columns if c != "standardized_address")
    want = gold_rows(resources, "users_enriched",
                     f"(SELECT {columns} FROM (\n{users.select_sql(as_of=as_of)}\n))")
    assert gold_rows(resources, "users_enriched", f"(SELECT {columns} FROM "
                                                  f"{users.warehouse_table})") == want, step


def run_scenario(resources: dict, landed: Path) -> None:
    inbox = resources["inbox_store"]
    for path in sorted(p for p in landed.rglob("*") if p.is_file()):
        inbox.upload_file(str(path.relative_to(landed)), path)

    load_bronze(resources, DAYS[0])
    refresh_silver(resources)
    modes = materialize_gold(resources)
    assert {modes[n] for n in KEYED} == {FULL}  # the first build
    assert_equals_full_select(resources, "seed")

    for first, last in ((DAYS[1], DAYS[1]), (DAYS[2], DAYS[3])):
        load_bronze(resources, first, last)
        refresh_silver(resources)
        modes = materialize_gold(resources)
        assert {modes[n] for n in KEYED} == {INCREMENTAL}, (last, modes)
        assert_equals_full_select(resources, last.isoformat())

    # Nothing changed in silver: no keyed table runs a statement.
    modes = materialize_gold(resources)
    assert {modes[n] for n in KEYED} == {UNCHANGED}, modes

    # A backfill of the seed day, then objects re-landed with corrected rows.
    load_bronze(resources, DAYS[0])
    refresh_silver(resources)
    materialize_gold(resources)
    assert_equals_full_select(resources, "backfilled seed day")
    reland_corrected(resources, landed)
    load_bronze(resources, CORRECTED_DAY)
    refresh_silver(resources)
    modes = materialize_gold(resources)
    assert {modes[n] for n in KEYED} == {INCREMENTAL}, modes
    assert_equals_full_select(resources, "corrected day")

    # Only the date moves: recency, churn and the cut-off move with it (a full rebuild).
    earlier = DAYS[-2]
    modes = materialize_gold(resources, earlier)
    assert {modes[n] for n in KEYED} == {FULL}, modes
    assert_equals_full_select(resources, "as_of moved back", earlier)
    (row,) = query(resources, "SELECT MIN(days_since_last_order) AS d FROM "
                              "gold.customer_metrics")
    assert row["d"] == 0
    modes = materialize_gold(resources)
    assert_equals_full_select(resources, "as_of moved forward")

    # A full refresh (run config) leaves every row as the incremental refreshes left it.
    load_bronze(resources, DAYS[3])
    refresh_silver(resources)
    assert set(materialize_gold(resources).values()) <= {INCREMENTAL, FULL}
    incremental = {name: gold_rows(resources, name) for name in GOLD_TABLES}
    modes = materialize_gold(resources, full_refresh=True)
    assert {modes[n] for n in KEYED} == {FULL}
    for name in GOLD_TABLES:
        assert gold_rows(resources, name) == incremental[name], name


@pytest.mark.slow
def test_incremental_gold_equals_a_full_refresh(ecommerce_home: Path, tmp_path: Path) -> None:
    landed = tmp_path / "landed"
    generate(landed, tmp_path / "generator", "0.005", "150")
    run_scenario(build_resources("local"), landed)


@pytest.mark.slow
def test_incremental_gold_equals_a_full_refresh_on_bigquery(
        gcp_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMMERCE_HOME", str(tmp_path / "home"))
    landed = tmp_path / "landed"
    generate(landed, tmp_path / "generator", "0.002", "60")
    run_scenario(build_resources("gcp"), landed)
