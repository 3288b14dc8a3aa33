"""Static FX rates shipped with the project (the default of the future ``FxRates`` resource).

Rates are USD per one unit of the currency, rounded reference rates as of 2026-11-02.
The dirty-batch generator converts USD prices into these currencies with the same
numbers, so converting back in gold recovers the original price to within rounding.
"""

from __future__ import annotations

STATIC_RATES_AS_OF = "2026-11-02"
STATIC_RATES_TO_USD: dict[str, float] = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.27,
    "JPY": 0.0067,
}
# Decimal places a price is written with in each currency (yen has no minor unit).
CURRENCY_DECIMALS: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0}
