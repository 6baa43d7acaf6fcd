"""What an upstream may claim one request used: its figures move balances, so they are checked first.

A figure that is negative counts as 0 (a negative cost would credit the caller); one above the
bound counts as the bound; one that is not a number counts as unknown: tokens as 0, and a cost as
not reported, so the catalogue's list price applies. Each correction comes back as a note for the
adapter to log.
"""

import math
from decimal import Decimal, InvalidOperation

from domain.money import MICROS_PER_USD, usd_to_micros
from domain.pricing import Usage

# No model has a context or an output anywhere near this; a larger count is a broken upstream.
MAX_TOKENS_PER_REQUEST = 10_000_000
# Far above any single call's list price (a million-token context at $100 per million is $100).
MAX_COST_USD_PER_REQUEST = 1_000
MAX_COST_MICROS_PER_REQUEST = MAX_COST_USD_PER_REQUEST * MICROS_PER_USD

_SHOWN_CHARS = 40  # how much of an odd value a note quotes


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def bounded_tokens(name: str, value: object) -> tuple[int, str | None]:
    """A token count as billed, and a note when it had to be corrected. None (not reported) is 0."""
    if type(value) is int and 0 <= value <= MAX_TOKENS_PER_REQUEST:
        return value, None  # the common case, first
    if value is None:
        return 0, None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0, f"{name} {_shown(value)} is not a number: counted as 0"
    if value < 0:
        return 0, f"{name} {_shown(value)} is negative: counted as 0"
    if value > MAX_TOKENS_PER_REQUEST:
        return MAX_TOKENS_PER_REQUEST, f"{name} {_shown(value)} is above {MAX_TOKENS_PER_REQUEST}: counted as that"
    if isinstance(value, float) and not value.is_integer():
        return math.ceil(value), f"{name} {_shown(value)} is fractional: counted as {math.ceil(value)}"
    return int(value), None


def bounded_cost_micros(value: object) -> tuple[int | None, str | None]:
    """A reported cost in dollars (a number, or a number's text) as micro-dollars, and a note when corrected.

    None means not reported; so does anything that is not a finite number (the catalogue price applies).
    """
    if value is None:
        return None, None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        return None, f"cost {_shown(value)} is not a number: the catalogue price applies"
    try:
        amount = value if isinstance(value, Decimal) else Decimal(value if isinstance(value, str) else str(value))
    except InvalidOperation:
        return None, f"cost {_shown(value)} is not a number: the catalogue price applies"
    if not amount.is_finite():
        return None, f"cost {_shown(value)} is not a number: the catalogue price applies"
    if amount < 0:
        return 0, f"cost {_shown(value)} is negative: counted as 0"
    if amount > MAX_COST_USD_PER_REQUEST:  # compared before scaling: 1e999999 would overflow the context
        note = f"cost {_shown(value)} is above ${MAX_COST_USD_PER_REQUEST}: counted as that"
        return MAX_COST_MICROS_PER_REQUEST, note
    return usd_to_micros(amount), None


def bounded_usage(prompt_tokens: object, completion_tokens: object, cost_usd: object) -> tuple[Usage, tuple[str, ...]]:
    """The usage to bill from an upstream's raw figures, and the corrections made (empty when none)."""
    prompt, prompt_note = bounded_tokens("prompt_tokens", prompt_tokens)
    completion, completion_note = bounded_tokens("completion_tokens", completion_tokens)
    cost, cost_note = bounded_cost_micros(cost_usd)
    usage = Usage(prompt_tokens=prompt, completion_tokens=completion, cost_micros=cost)
    if prompt_note is None and completion_note is None and cost_note is None:
        return usage, ()
    return usage, tuple(note for note in (prompt_note, completion_note, cost_note) if note is not None)
