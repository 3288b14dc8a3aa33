"""The USPS-style address standardizer on real-world US address variants, run as the SQL the
``users_enriched`` asset splices in (BigQuery SQL, transpiled, on a DuckDB file)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from resources.addresses import GeminiAddressStandardizer, UspsAddressStandardizer
from resources.keys import InvalidIdentifierError
from resources.warehouse import DuckDBWarehouse

US = "United States"
# street_address, city, state, postal_code, country -> standardized_address
CASES: list[tuple[tuple[str | None, ...], str | None]] = [
    (("1600 Pennsylvania Avenue NW", "Washington", "District of Columbia", "20500", US),
     "1600 PENNSYLVANIA AVE NW, WASHINGTON, DC 20500"),
    (("1600 Pennsylvania Ave. N.W.", "Washington", "D.C.", "20500-0003", US),
     "1600 PENNSYLVANIA AVE NW, WASHINGTON, DC 20500"),
    (("350 Fifth Avenue", "New York", "new york", "10118", US),
     "350 FIFTH AVE, NEW YORK, NY 10118"),
    (("350 5th Ave, Suite 3300", "New York", "NY", "10118", US),
     "350 5TH AVE STE 3300, NEW YORK, NY 10118"),
    (("233 South Wacker Drive", "Chicago", "Illinois", "60606", US),
     "233 S WACKER DR, CHICAGO, IL 60606"),
    (("1 Infinite Loop", "Cupertino", "California", "95014", US),
     "1 INFINITE LOOP, CUPERTINO, CA 95014"),
    (("  742   evergreen terrace ", " springfield ", "oregon", "97403", US),
     "742 EVERGREEN TER, SPRINGFIELD, OR 97403"),
    # A directional that is the street's name stays spelled out.
    (("100 North Avenue", "Atlanta", "GA", "30308", US), "100 NORTH AVE, ATLANTA, GA 30308"),
    (("9 Southeast Court", "Miami", "Florida", "33101", US), "9 SOUTHEAST CT, MIAMI, FL 33101"),
    # ZIP codes that lost their leading zero in a spreadsheet.
    (("77 Massachusetts Ave, Room 3-105", "Cambridge", "MA", "2139", US),
     "77 MASSACHUSETTS AVE RM 3-105, CAMBRIDGE, MA 02139"),
    (("11 Wall St.", "New York", "N.Y.", "10005", US), "11 WALL ST, NEW YORK, NY 10005"),
    (("P.O. Box 1234", "Anchorage", "Alaska", "99501", US), "PO BOX 1234, ANCHORAGE, AK 99501"),
    (("Post Office Box 77", "Boise", "ID", "83701", US), "PO BOX 77, BOISE, ID 83701"),
    (("4059 Mt Lee Dr.", "Hollywood", "CA", "90068", US), "4059 MT LEE DR, HOLLYWOOD, CA 90068"),
    (("1200 Pacific Coast Highway", "Huntington Beach", "CA", "92648", US),
     "1200 PACIFIC COAST HWY, HUNTINGTON BEACH, CA 92648"),
    (("2 Park Avenue South, Apt #5C", "New York", "NY", "10016", US),
     "2 PARK AVE S APT 5C, NEW YORK, NY 10016"),
    (("1 Circle Drive West", "Denver", "Colorado", "80202", US),
     "1 CIRCLE DR W, DENVER, CO 80202"),
    (("123 North Main Street Apartment 12", "Seattle", "Washington", "98101", US),
     "123 N MAIN ST APT 12, SEATTLE, WA 98101"),
    (("3 Harbor Parkway Ste 110", "Boston", "Massachusetts", "02108", US),
     "3 HARBOR PKWY STE 110, BOSTON, MA 02108"),
    (("12 Maple Lane Unit 7", "Phoenix", "Arizona", "85004", US),
     "12 MAPLE LN UNIT 7, PHOENIX, AZ 85004"),
    (("10 Downing St # 3", "Houston", "Texas", "77002", US),
     "10 DOWNING ST # 3, HOUSTON, TX 77002"),
    (("8 Lincoln Pl Floor 2", "Denver", "CO", "80202-1234", US),
     "8 LINCOLN PL FL 2, DENVER, CO 80202"),
    (("123-45 Queens Blvd", "Queens", "NY", "11375", US),
     "123-45 QUEENS BLVD, QUEENS, NY 11375"),
    (("55 Water St. Rear", "New York", "NY", "10041", US), "55 WATER ST REAR, NEW YORK, NY 10041"),
    # 'FRONT' is a unit designator, but here it names the street.
    (("1 Front St", "Memphis", "Tennessee", "38103", US), "1 FRONT ST, MEMPHIS, TN 38103"),
    # No house number: not parsed, left legible rather than guessed.
    (("One World Trade Center", "New York", "NY", "10007", "USA"),
     "ONE WORLD TRADE CENTER, NEW YORK, NY 10007"),
    (("1 Main St", "Mobile", "Alabama", "36602", "U.S.A."), "1 MAIN ST, MOBILE, AL 36602"),
    # Not the whole form (no street line, no ZIP): not standardized.
    ((None, "Denver", "Colorado", None, US), None),
    # USPS rules are for US addresses only.
    (("10 Downing Street", "London", "England", "SW1A 2AA", "United Kingdom"), None),
    (("Rua Augusta 1500", "São Paulo", "São Paulo", "01304-001", "Brasil"), None),
]
COLUMNS = ["street_address", "city", "state", "postal_code", "country"]


@pytest.fixture(scope="module")
def standardized(tmp_path_factory: pytest.TempPathFactory) -> dict[int, str | None]:
    wh = DuckDBWarehouse(path=str(tmp_path_factory.mktemp("addresses") / "w.duckdb"))
    users = {"id": list(range(len(CASES)))}
    users.update({c: [case[0][i] for case in CASES] for i, c in enumerate(COLUMNS)})
    wh.load_table("silver.users", pa.table(users))
    sql = UspsAddressStandardizer().select_sql("silver.users")
    rows = wh.query_arrow(wh.transpile(sql)).to_pylist()
    assert len(rows) == len({r["user_id"] for r in rows})  # one row per user at most
    return {r["user_id"]: r["standardized_address"] for r in rows}


@pytest.mark.parametrize(("index", "expected"), [(i, c[1]) for i, c in enumerate(CASES)],
                         ids=[str(c[0][0]) for c in CASES])
def test_us_address_variants(standardized: dict[int, str | None], index: int,
                             expected: str | None) -> None:
    assert standardized.get(index) == expected


def test_variants_of_one_address_standardize_to_one_string(
        standardized: dict[int, str | None]) -> None:
    assert standardized[0] == standardized[1]  # 'Avenue NW, District of Columbia' = 'Ave. N.W., D.C.'


def test_table_names_are_validated_and_gemini_needs_a_model_path() -> None:
    with pytest.raises(InvalidIdentifierError):
        UspsAddressStandardizer().select_sql("users; DROP TABLE x")
    with pytest.raises(ValueError, match=r"project\.dataset\.model"):
        GeminiAddressStandardizer(model="gemini'; --").select_sql("silver.users")
    sql = GeminiAddressStandardizer(model="my-project.llm.gemini_2_5_flash").select_sql(
        "silver.users")
    assert "MODEL `my-project.llm.gemini_2_5_flash`" in sql and "FROM silver.users" in sql
