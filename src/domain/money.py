"""Money is an integer count of micro-dollars (1 USD = 1_000_000) and never a float.

Per-token prices are far below a micro-dollar, so catalogue prices are held as pico-dollars
per token (1 USD = 10**12) and rounded up to micro-dollars only when a charge is made.
"""

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

MICROS_PER_USD = 1_000_000
PICOS_PER_USD = 10**12
PICOS_PER_MICRO = 1_000_000


def usd_to_micros(value: str | float | int | Decimal) -> int:
    """Exact decimal conversion; floats go through their shortest repr so 0.1 stays 0.1."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a dollar amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not a dollar amount: {value!r}")
    return int((amount * MICROS_PER_USD).to_integral_value(rounding=ROUND_HALF_UP))


def usd_to_picos(value: str | float | int | Decimal) -> int:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a price: {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        return 0
    return int((amount * PICOS_PER_USD).to_integral_value(rounding=ROUND_HALF_UP))


def picos_to_micros_ceil(picos: int) -> int:
    """Charges round up: a fraction of a micro-dollar is still a cost."""
    return int((Decimal(picos) / PICOS_PER_MICRO).to_integral_value(rounding=ROUND_CEILING))


def micros_to_usd(micros: int) -> float:
    """For display only (JSON bodies that the specs give in dollars)."""
    return micros / MICROS_PER_USD
