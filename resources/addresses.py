"""Address standardization for ``gold.users_enriched``: the ``AddressStandardizer`` resource.

A standardizer supplies one BigQuery SQL SELECT over the users table returning
``(user_id, standardized_address)``; gold splices it into ``sql/gold/users_enriched.sql`` as
the body of the CTE ``standardized_addresses``, so the work runs in the warehouse, row-set at
a time, never a Python loop per address.

- :class:`UspsAddressStandardizer` (default): deterministic USPS Publication 28 style for
  United States addresses, generated from the tables of :mod:`resources.usps`: regular
  expressions split the street line into its parts and a join with the abbreviation table
  maps each part; it runs on BigQuery and (transpiled) on DuckDB.
  Output: ``DELIVERY LINE, CITY, ST 12345``, e.g. ``123 N OAK ST APT 4B, SEATTLE, WA 98101``;
  NULL for addresses outside the United States (USPS rules do not apply there) and for a US
  address missing its street line, city or ZIP code, or whose state is not two letters once
  abbreviated (no partial forms).
- :class:`GeminiAddressStandardizer` (BigQuery only): the seed's ``AI.GENERATE_TEXT`` variant,
  ``sql/gold/bigquery/standardize_addresses_gemini.sql``.
"""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
from pydantic import Field

from resources import usps
from resources.keys import validate_identifier

GEMINI_SQL = (Path(__file__).resolve().parents[1] / "sql" / "gold" / "bigquery"
              / "standardize_addresses_gemini.sql")
# A BigQuery model path: project.dataset.model (project ids may contain hyphens).
_MODEL = re.compile(r"^[a-z][a-z0-9-]{4,29}\.[A-Za-z0-9_]{1,1024}\.[A-Za-z0-9_]{1,1024}$")
_WORD = re.compile(r"^[A-Z]+( [A-Z]+)*$")


class AddressStandardizer(dg.ConfigurableResource):
    """Interface: a SELECT producing one standardized address per user."""

    def select_sql(self, users: str) -> str:
        """BigQuery SQL: ``SELECT user_id, standardized_address`` over the table ``users``
        (the silver users columns). Users it leaves out get a NULL address."""
        raise NotImplementedError


def _words(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """spelling -> abbreviation, every abbreviation mapping to itself."""
    mapping = {abbr: abbr for abbr in table}
    for abbr, spellings in table.items():
        mapping.update(dict.fromkeys(spellings, abbr))
    bad = [w for w in mapping if not _WORD.fullmatch(w)]
    if bad:  # the words are spliced into regexes and SQL literals
        raise ValueError(f"USPS table words must be upper-case letters: {bad}")
    return mapping


def _alternation(words: dict[str, str]) -> str:
    # Longest first, so that a regex alternation never stops at a prefix ('ST' of 'STREET').
    return "|".join(sorted(words, key=lambda w: (-len(w), w)))


DIRECTIONALS = _words(usps.DIRECTIONALS)
SUFFIXES = _words(usps.STREET_SUFFIXES)
UNITS = _words(usps.UNIT_DESIGNATORS)
STATES = _words(usps.STATES)

_UNIT_ID = r"[0-9]+[A-Z]?(?:-[0-9A-Z]+)?|[A-Z](?:-?[0-9]+)?"
# A trailing secondary unit: designator (or '#') and an optional id, after at least a house
# number and one street word ('123 FRONT' is a street, not unit FRNT of '123'). The street
# part is the shortest that leaves a whole unit, so 'APT # 5C' is one unit, not '#' of 'APT'.
UNIT_PATTERN = rf"^(.*?\S \S+) ({_alternation(UNITS)}|#)(?: #)?(?: ({_UNIT_ID}))?$"
# House number, optional pre-directional, street name (shortest), optional suffix, optional
# post-directional. Unmatched optional groups come back as ''.
STREET_PATTERN = (rf"^([0-9][0-9A-Z/-]*) (?:({_alternation(DIRECTIONALS)}) )?(.+?)"
                  rf"(?: ({_alternation(SUFFIXES)}))?(?: ({_alternation(DIRECTIONALS)}))?$")


def _squeeze(expr: str) -> str:
    """Upper case, periods dropped, commas/semicolons/pipes as spaces, single spaces."""
    return (f"TRIM(REGEXP_REPLACE(REGEXP_REPLACE(REGEXP_REPLACE(UPPER({expr}), r'[.]', ''), "
            f"r'[,;|]', ' '), r'\\s+', ' '))")


# Lookup kinds of the abbreviation table the SQL joins (a CASE with hundreds of branches
# over a computed value makes the planner copy the value into every branch).
LOOKUPS: dict[str, dict[str, str]] = {
    "dir": DIRECTIONALS, "suffix": SUFFIXES, "unit": UNITS, "state": STATES}


def _lookup_rows() -> str:
    return ",\n    ".join(
        f"STRUCT('{kind}' AS kind, '{word}' AS word, '{abbr}' AS abbr)"
        for kind, words in LOOKUPS.items() for word, abbr in sorted(words.items())
        if word != abbr)


def usps_select_sql(users: str) -> str:
    """The deterministic USPS-style standardizer as one BigQuery SELECT over ``users``."""
    validate_identifier(users)
    us = ", ".join(f"'{c}'" for c in usps.UNITED_STATES)
    suffix_words = ", ".join(f"'{w}'" for w in sorted(SUFFIXES))
    street = _squeeze("REGEXP_REPLACE(street_address, r'#', ' # ')")
    return f"""
WITH abbreviations AS (
  -- spelling -> USPS abbreviation (resources/usps.py); abbreviations map to themselves.
  SELECT kind, word, abbr FROM UNNEST([
    {_lookup_rows()}])
),
normalized AS (
  SELECT
    id AS user_id,
    REGEXP_REPLACE({street}, r'^(?:P O|POST OFFICE) BOX ', 'PO BOX ') AS s,
    {_squeeze('city')} AS city,
    {_squeeze('state')} AS state,
    -- 5-digit ZIP: ZIP+4 cut to 5; 3-4 digits lost their leading zeros.
    CASE
      WHEN LENGTH(REGEXP_REPLACE(postal_code, r'[^0-9]', '')) IN (5, 9)
        THEN SUBSTR(REGEXP_REPLACE(postal_code, r'[^0-9]', ''), 1, 5)
      WHEN LENGTH(REGEXP_REPLACE(postal_code, r'[^0-9]', '')) IN (3, 4)
        THEN LPAD(REGEXP_REPLACE(postal_code, r'[^0-9]', ''), 5, '0')
    END AS zip
  FROM {users}
  WHERE UPPER(REGEXP_REPLACE(country, r'[.\\s]', '')) IN ({us})
),
units AS (
  -- The trailing secondary unit split off: street | designator | id.
  SELECT user_id, city, state, zip,
    IF(REGEXP_CONTAINS(s, r'{UNIT_PATTERN}'),
       SPLIT(REGEXP_REPLACE(s, r'{UNIT_PATTERN}', r'\\1|\\2|\\3'), '|'),
       [s, '', '']) AS u
  FROM normalized
),
streets AS (
  -- number | pre-directional | name | suffix | post-directional, NULL when unparsed.
  SELECT user_id, city, state, zip,
    u[OFFSET(0)] AS street, u[OFFSET(1)] AS designator, u[OFFSET(2)] AS unit_id,
    IF(REGEXP_CONTAINS(u[OFFSET(0)], r'{STREET_PATTERN}'),
       SPLIT(REGEXP_REPLACE(u[OFFSET(0)], r'{STREET_PATTERN}', r'\\1|\\2|\\3|\\4|\\5'), '|'),
       NULL) AS p
  FROM units
),
parts AS (
  -- A street name that is itself a suffix word after a directional ('100 NORTH AVENUE',
  -- parsed as N + AVENUE) is the directional spelled out plus that suffix: 100 NORTH AVE.
  SELECT user_id, city, state, zip, street, designator, unit_id, p IS NOT NULL AS parsed,
    p[OFFSET(0)] AS number, p[OFFSET(4)] AS postdir,
    IF(swap, '', p[OFFSET(1)]) AS predir,
    IF(swap, p[OFFSET(1)], p[OFFSET(2)]) AS name,
    IF(swap, p[OFFSET(2)], p[OFFSET(3)]) AS suffix
  FROM (
    SELECT *,
      IFNULL(p[OFFSET(3)] = '' AND p[OFFSET(1)] <> '' AND p[OFFSET(2)] IN ({suffix_words}),
             FALSE) AS swap
    FROM streets
  )
)
SELECT
  user_id,
  -- The documented form needs all four parts, the state as two letters: an address without
  -- them is not standardized (NULL), rather than a string of another form.
  IF(line IS NULL OR city IS NULL OR zip IS NULL
       OR NOT IFNULL(REGEXP_CONTAINS(state, r'^[A-Z]{{2}}$'), FALSE), NULL,
     CONCAT(line, ', ', city, ', ', state, ' ', zip)) AS standardized_address
FROM (
  SELECT
    x.user_id,
    NULLIF(ARRAY_TO_STRING([
      IF(x.parsed, ARRAY_TO_STRING([
        NULLIF(x.number, ''),
        NULLIF(COALESCE(pre.abbr, x.predir), ''),
        x.name,
        NULLIF(COALESCE(sfx.abbr, x.suffix), ''),
        NULLIF(COALESCE(post.abbr, x.postdir), '')], ' '), NULLIF(x.street, '')),
      NULLIF(COALESCE(unit.abbr, x.designator), ''),
      NULLIF(x.unit_id, '')], ' '), '') AS line,
    NULLIF(x.city, '') AS city,
    NULLIF(COALESCE(st.abbr, x.state), '') AS state,
    x.zip
  FROM parts AS x
  LEFT JOIN abbreviations AS pre ON pre.kind = 'dir' AND pre.word = x.predir
  LEFT JOIN abbreviations AS sfx ON sfx.kind = 'suffix' AND sfx.word = x.suffix
  LEFT JOIN abbreviations AS post ON post.kind = 'dir' AND post.word = x.postdir
  LEFT JOIN abbreviations AS unit ON unit.kind = 'unit' AND unit.word = x.designator
  LEFT JOIN abbreviations AS st ON st.kind = 'state' AND st.word = x.state
)"""


class UspsAddressStandardizer(AddressStandardizer):
    """Deterministic USPS Publication 28 style standardizer for United States addresses."""

    def select_sql(self, users: str) -> str:
        return usps_select_sql(users)


class GeminiAddressStandardizer(AddressStandardizer):
    """BigQuery only: standardize US addresses with Gemini through ``AI.GENERATE_TEXT`` (seed
    §5). Needs a remote model over a Vertex AI connection (see
    ``sql/gold/bigquery/README.md``); one model call per address, so it costs money and is
    not deterministic."""

    model: str = Field(description="the remote model, project.dataset.model "
                                   "(e.g. my-project.llm.gemini_2_5_flash)")

    def select_sql(self, users: str) -> str:
        if not _MODEL.fullmatch(self.model):
            raise ValueError(f"model {self.model!r} is not a project.dataset.model path")
        sql = GEMINI_SQL.read_text()
        return sql.replace("{model}", self.model).replace("{users}", validate_identifier(users))
