"""What a request costs the caller: a worst case to reserve, then the true charge to settle.

The price is the plan's tariff applied to what the API family says the request is (`Tariff`):
a family may set a flat price of its own (the credits API's one credit a request), count the
images asked for, and multiply (its batch requests cost double). Multipliers compose: upstream
cost x the plan's multiplier x the family's.
"""

import math
from dataclasses import dataclass
from fractions import Fraction

from domain.catalog import ModelInfo
from domain.money import PICOS_PER_MICRO, picos_to_micros_ceil
from domain.plans import Plan, PricingMode

# A token is about four characters of English; three keeps the estimate on the safe side.
_BYTES_PER_TOKEN_ESTIMATE = 3


@dataclass(frozen=True, slots=True)
class Tariff:
    """What an API family says a request is, for pricing it."""

    flat_micros: int | None = None  # the family's own price for the request, whatever the plan says
    images: int = 0  # images asked for: priced per image where the plan sets a price per image
    multiplier: Fraction = Fraction(1)
    bills_balance: bool = False  # charged to the prepaid balance even where the plan is not prepaid

    def __post_init__(self) -> None:
        if self.multiplier < 0 or (self.flat_micros or 0) < 0 or self.images < 0:
            raise ValueError("a tariff cannot be negative")


PLAN_TARIFF = Tariff()


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_micros: int | None = None  # what the upstream says it charged us; None when it did not say

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def _apply(multiplier: Fraction, picos: int) -> int:
    return math.ceil(Fraction(picos) * multiplier / PICOS_PER_MICRO)


def estimate_prompt_tokens(body_bytes: int, model: ModelInfo | None) -> int:
    tokens = max(1, body_bytes // _BYTES_PER_TOKEN_ESTIMATE)
    if model is not None and model.context_length:
        tokens = min(tokens, model.context_length)
    return tokens


def _fixed_micros(plan: Plan, tariff: Tariff) -> int | None:
    """The price when it does not depend on what the upstream did, else None."""
    if tariff.flat_micros is not None:
        return math.ceil(tariff.flat_micros * tariff.multiplier)
    pricing = plan.pricing
    if tariff.images and pricing.per_image_micros:
        return math.ceil(pricing.per_image_micros * tariff.images * tariff.multiplier)
    if pricing.mode is PricingMode.PER_REQUEST:
        return math.ceil(pricing.per_request_micros * tariff.multiplier)
    return None


def worst_case_micros(
    plan: Plan, model: ModelInfo | None, body_bytes: int, max_tokens: int | None, tariff: Tariff = PLAN_TARIFF
) -> int:
    """The reservation taken before a request goes upstream."""
    fixed = _fixed_micros(plan, tariff)
    if fixed is not None:
        return fixed
    calls = max(1, tariff.images)  # one upstream call per image asked for
    if model is None or model.price is None:
        return plan.fallback_reservation_micros * calls
    completion = max_tokens if max_tokens and max_tokens > 0 else plan.completion_budget_tokens
    if model.max_completion_tokens:
        completion = min(completion, model.max_completion_tokens)
    price = model.price
    picos = (
        price.request_picos
        + estimate_prompt_tokens(body_bytes, model) * price.prompt_picos
        + completion * price.completion_picos
    )
    return _apply(plan.pricing.multiplier * tariff.multiplier, picos * calls)


def cost_from_catalog(model: ModelInfo | None, usage: Usage) -> int | None:
    """The upstream's cost in micro-dollars when it did not report one (an estimate from list prices)."""
    if model is None or model.price is None:
        return None
    price = model.price
    picos = (
        price.request_picos
        + usage.prompt_tokens * price.prompt_picos
        + usage.completion_tokens * price.completion_picos
    )
    return picos_to_micros_ceil(picos)


def charge_micros(plan: Plan, upstream_cost_micros: int, tariff: Tariff = PLAN_TARIFF) -> int:
    """What the caller pays once the true cost is known; never negative, so a charge can never credit."""
    fixed = _fixed_micros(plan, tariff)
    if fixed is not None:
        return max(0, fixed)
    if upstream_cost_micros <= 0:
        return 0
    return max(0, math.ceil(Fraction(upstream_cost_micros) * plan.pricing.multiplier * tariff.multiplier))


@dataclass(frozen=True, slots=True)
class ListedPrice:
    """What a plan charges for a model, as a price list shows it (micro-dollars, rounded up)."""

    prompt_per_million_micros: int | None  # None where the plan charges a flat price per request
    completion_per_million_micros: int | None
    per_request_micros: int  # the plan's flat price, or the upstream's own price per request

    @property
    def flat(self) -> bool:
        return self.prompt_per_million_micros is None


def listed_price(plan: Plan, model: ModelInfo) -> ListedPrice | None:
    """The plan's price of `model` for a chat request; None when it depends on a price the
    upstream does not list. A picodollar a token is a microdollar a million tokens."""
    if plan.pricing.mode is PricingMode.PER_REQUEST:
        return ListedPrice(None, None, plan.pricing.per_request_micros)
    if model.price is None:
        return None
    multiplier = plan.pricing.multiplier
    return ListedPrice(
        prompt_per_million_micros=math.ceil(model.price.prompt_picos * multiplier),
        completion_per_million_micros=math.ceil(model.price.completion_picos * multiplier),
        per_request_micros=_apply(multiplier, model.price.request_picos),
    )
