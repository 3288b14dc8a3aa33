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
