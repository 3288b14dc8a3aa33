"""The standardized address of ``gold.users_enriched`` is the documented form or NULL.

The form is ``DELIVERY LINE, CITY, ST 12345``; a US address missing a part (city, street line,
ZIP code) or whose state does not abbreviate to two letters is left unstandardized (NULL)
instead of coming out as ``LINE, ST 12345`` or ``CITY, ST``, which read as other forms. Run as
the SQL the asset splices in, transpiled, on a DuckDB file.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from resources.addresses import UspsAddressStandardizer
from resources.warehouse import DuckDBWarehouse

FORM = re.compile(r"^[^,]+, [^,]+, [A-Z]{2} [0-9]{5}$")
US = "United States"
# street_address, city, state, postal_code -> standardized_address
CASES: list[tuple[tuple[str | None, ...], str | None]] = [
    (("1511 Park Avenue Apt 4B", "Austin", "Texas", "78701"),
     "1511 PARK AVE APT 4B, AUSTIN, TX 78701"),
    (("1511 Park Avenue Apt 4B", None, "Texas", "78701"), None),  # was '…, TX 78701'
    (("1511 Park Avenue Apt 4B", "  ", "Texas", "78701"), None),  # a blank city is no city
    (("1511 Park Avenue", "Austin", "Texas", None), None),
    ((None, "Denver", "Colorado", None), None),  # was 'DENVER, CO'
    (("1511 Park Avenue", "Austin", None, "78701"), None),
    (("1511 Park Avenue", "Austin", "Texxas", "78701"), None),  # no two-letter state
    (("1511 Park Avenue", "Austin", "tx", "787010000"), "1511 PARK AVE, AUSTIN, TX 78701"),
]


@pytest.fixture(scope="module")
def standardized(tmp_path_factory: pytest.TempPathFactory) -> dict[int, str | None]:
    wh = DuckDBWarehouse(path=str(tmp_path_factory.mktemp("forms") / "w.duckdb"))
    columns = ["street_address", "city", "state", "postal_code"]
    users = {"id": list(range(len(CASES))), "country": [US] * len(CASES)}
    users.update({c: [case[0][i] for case in CASES] for i, c in enumerate(columns)})
    wh.load_table("silver.users", pa.table(users))
    sql = UspsAddressStandardizer().select_sql("silver.users")
    return {r["user_id"]: r["standardized_address"]
            for r in wh.query_arrow(wh.transpile(sql)).to_pylist()}


@pytest.mark.parametrize(("index", "expected"), [(i, c[1]) for i, c in enumerate(CASES)])
def test_an_address_is_the_whole_form_or_null(standardized: dict[int, str | None],
                                              index: int, expected: str | None) -> None:
    assert standardized.get(index) == expected


def test_every_standardized_address_has_the_documented_form(
        standardized: dict[int, str | None]) -> None:
    found = [a for a in standardized.values() if a is not None]
    assert len(found) == 2 and all(FORM.fullmatch(a) for a in found)


class _Shouting(UspsAddressStandardizer):
    """Another standardizer (other SQL): every address the USPS one gives, with a suffix."""

    def select_sql(self, users: str) -> str:
        return (f"SELECT user_id, CONCAT(standardized_address, ' (2)') AS standardized_address "
                f"FROM ({super().select_sql(users)})")


def test_addresses_are_standardized_once_per_address(empty_bronze, tmp_path) -> None:
    """users_enriched reads its addresses from a cache kept per user by the address columns:
    a refresh standardizes only new or changed addresses, and the table equals the uncached
    SELECT every time (gold/seam_cache.py)."""
    import datetime as dt
    import shutil
    from types import SimpleNamespace

    from ecommerce_assets.gold.refresh import refresh_statements, refresh_table
    from ecommerce_assets.gold.spec import GOLD_TABLES
    from tests.test_gold_metrics import silver_rows

    shutil.copyfile(empty_bronze.path, tmp_path / "w.duckdb")
    wh = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    users = silver_rows()["users"]
    wh.execute("DELETE FROM silver.users")
    wh.load_table("silver.users", pa.Table.from_pylist(users), mode="append")
    table, as_of = GOLD_TABLES["users_enriched"], dt.date(2026, 7, 1)

    def refresh(standardizer=None, **kw) -> int:
        resources = SimpleNamespace(address_standardizer=standardizer
                                    or UspsAddressStandardizer())
        computed = refresh_table(wh, table, as_of=as_of, resources=resources, **kw).seam_rows
        (uncached,) = refresh_statements(table, as_of=as_of, resources=resources)
        want = wh.query_arrow(wh.transpile(
            f"SELECT * FROM ({uncached.split(' AS', 1)[1]}) ORDER BY user_id")).to_pylist()
        got = wh.query_arrow("SELECT * FROM gold.users_enriched ORDER BY user_id").to_pylist()
        assert got == want and any(r["standardized_address"] for r in got)
        return computed

    assert refresh() == len(users)  # the first refresh standardizes every address
    assert refresh() == 0
    wh.execute("UPDATE silver.users SET street_address = '5 Pine Street' WHERE id = 1")
    wh.execute("UPDATE silver.users SET first_name = 'Annie' WHERE id = 3")  # not an input
    assert refresh() == 1
    (row,) = wh.query_arrow("SELECT standardized_address AS a FROM gold.users_enriched "
                            "WHERE user_id = 1").to_pylist()
    assert row["a"].startswith("5 PINE ST, SEATTLE, WA")
    wh.execute("DELETE FROM silver.users WHERE id = 2")
    assert refresh() == 0
    assert wh.query_arrow("SELECT COUNT(*) AS n FROM ops.gold_seam_standardized_addresses"
                          ).to_pylist()[0]["n"] == len(users) - 1
    # Another standardizer's SQL, or a full refresh: every address again.
    assert refresh(_Shouting()) == len(users) - 1
    assert refresh(_Shouting()) == 0
    assert refresh(_Shouting(), full_refresh=True) == len(users) - 1
