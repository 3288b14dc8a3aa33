"""FX rates: the ``FxRates`` resource gold converts prices with, and the static default.

Rates are USD per one unit of the currency. The default, :class:`StaticFxRates`, serves the
rounded reference rates below (as of 2026-11-02), shipped with the project so that the
embedded default needs no network. The dirty-batch generator converts USD prices into these
currencies with the same numbers, so converting back in gold recovers the original price to
within rounding.

The resource is the seam for a live source: a subclass whose :meth:`FxRates.rates` asks an
API for the currencies it is given. On BigQuery the remote function ``convert_to_usd`` of the
seed's §4 can fill the same table instead (``sql/gold/bigquery/``). Either way gold converts
by joining this table, in SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import dagster as dg
import pyarrow as pa
from pydantic import Field

STATIC_RATES_AS_OF = "2026-11-02"
STATIC_RATES_TO_USD: dict[str, float] = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.27,
    "JPY": 0.0067,
}
# Decimal places a price is written with in each currency (yen has no minor unit).
CURRENCY_DECIMALS: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0}

RATES_SCHEMA = pa.schema([
    pa.field("currency", pa.string(), nullable=False),
    pa.field("rate_to_usd", pa.float64(), nullable=False),
    pa.field("as_of_date", pa.date32(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
])


class FxRates(dg.ConfigurableResource):
    """Where exchange rates come from (interface)."""

    def rates(self, currencies: Sequence[str]) -> pa.Table:
        """Rates in :data:`RATES_SCHEMA`: one row per currency it can quote, including at
        least those of ``currencies`` it knows (the currencies the data uses; a live source
        can fetch just these). A currency it cannot quote is simply absent: the ``fx_rates``
        asset's blocking check names it."""
        raise NotImplementedError


class StaticFxRates(FxRates):
    """A fixed table of rates (default: the project's reference rates above)."""

    rates_to_usd: dict[str, float] = Field(
        default_factory=lambda: dict(STATIC_RATES_TO_USD),
        description="USD per one unit of each ISO 4217 currency")
    as_of_date: str = Field(default=STATIC_RATES_AS_OF,
                            description="the date the rates are valid for (YYYY-MM-DD)")

    def rates(self, currencies: Sequence[str]) -> pa.Table:
        day = dt.date.fromisoformat(self.as_of_date)
        codes = sorted(self.rates_to_usd)
        return pa.Table.from_pydict({
            "currency": codes,
            "rate_to_usd": [float(self.rates_to_usd[c]) for c in codes],
            "as_of_date": [day] * len(codes),
            "source": [f"static reference rates of {self.as_of_date}"] * len(codes),
        }, schema=RATES_SCHEMA)
