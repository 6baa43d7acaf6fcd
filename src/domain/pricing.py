"""What a request costs the caller: a worst case to reserve, then the true charge to settle."""

import math
from dataclasses import dataclass
from fractions import Fraction

from domain.catalog import ModelInfo
from domain.money import PICOS_PER_MICRO, picos_to_micros_ceil
from domain.plans import Plan, PricingMode

# A token is about four characters of English; three keeps the estimate on the safe side.
_BYTES_PER_TOKEN_ESTIMATE = 3


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


def worst_case_micros(plan: Plan, model: ModelInfo | None, body_bytes: int, max_tokens: int | None) -> int:
    """The reservation taken before a request goes upstream."""
    pricing = plan.pricing
    if pricing.mode is PricingMode.PER_REQUEST:
        return pricing.per_request_micros
    if model is None or model.price is None:
        return plan.fallback_reservation_micros
    completion = max_tokens if max_tokens and max_tokens > 0 else plan.completion_budget_tokens
    if model.max_completion_tokens:
        completion = min(completion, model.max_completion_tokens)
    price = model.price
    picos = (
        price.request_picos
        + estimate_prompt_tokens(body_bytes, model) * price.prompt_picos
        + completion * price.completion_picos
    )
    return _apply(pricing.multiplier, picos)


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


def charge_micros(plan: Plan, upstream_cost_micros: int) -> int:
    """What the caller pays once the true cost is known; never negative, so a charge can never credit."""
    pricing = plan.pricing
    if pricing.mode is PricingMode.PER_REQUEST:
        return max(0, pricing.per_request_micros)
    if upstream_cost_micros <= 0:
        return 0
    return max(0, math.ceil(Fraction(upstream_cost_micros) * pricing.multiplier))
