"""Amounts and spend caps as an admin types them, in the CLI or a console form."""

from decimal import Decimal, InvalidOperation

from domain.errors import InvalidRequest
from domain.money import MICROS_PER_USD
from domain.plans import Period, SpendCapOverride

PLAN_WORD = "plan"  # the period's cap is the plan's again
NONE_WORD = "none"  # no cap for the period, whatever the plan says


def parse_dollars(text: str, param: str = "amount", name: str = "AMOUNT") -> int:
    """Dollars as typed (`12.50`, `$0.000012`) to micro-dollars, exactly or not at all."""
    try:
        amount = Decimal(text.strip().removeprefix("$"))
    except InvalidOperation:
        raise InvalidRequest(f"{name} must be a number of dollars such as 12.50, got {text!r}", param) from None
    if not amount.is_finite():
        raise InvalidRequest(f"{name} must be a finite number of dollars, got {text!r}", param)
    micros = amount * MICROS_PER_USD
    if micros != micros.to_integral_value():
        raise InvalidRequest(f"{name} {text!r} is finer than a micro-dollar ($0.000001)", param)
    return int(micros)


def parse_spend_cap(period: Period, text: str, *, blank_is_plan: bool = False) -> SpendCapOverride | None:
    """`5.00` caps the period at $5.00, `none` lifts its cap; `plan` (None) goes back to the plan's cap."""
    word = text.strip().lower()
    if word == PLAN_WORD or (blank_is_plan and not word):
        return None
    if word == NONE_WORD:
        return SpendCapOverride(period, None)
    try:
        return SpendCapOverride(period, parse_dollars(text, period.value))
    except InvalidRequest:
        raise InvalidRequest(
            f"the {period.adjective} cap wants dollars (5.00), {NONE_WORD!r} (no cap) or {PLAN_WORD!r} "
            f"(the plan's cap), got {text!r}",
            param=period.value,
        ) from None


def spend_cap_text(override: SpendCapOverride | None) -> str:
    """What `parse_spend_cap` reads back: a form field's value for an override."""
    if override is None:
        return ""
    if override.limit_micros is None:
        return NONE_WORD
    whole, fraction = divmod(override.limit_micros, MICROS_PER_USD)
    return f"{whole}.{fraction:06d}".rstrip("0").rstrip(".") if fraction else f"{whole}.00"
