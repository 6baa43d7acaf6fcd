from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog import ModelInfo, ModelPrice
from domain.money import (
    MICROS_PER_USD,
    PICOS_PER_MICRO,
    PICOS_PER_USD,
    micros_to_usd,
    picos_to_micros_ceil,
    usd_to_micros,
    usd_to_picos,
)
from domain.plans import Plan, Pricing, PricingMode
from domain.pricing import Usage, charge_micros, cost_from_catalog, estimate_prompt_tokens, worst_case_micros

# $1 per million prompt tokens, $2 per million completion tokens, as the fake upstream prices them
PRICED = ModelInfo("openai/gpt-4o-mini", ModelPrice(prompt_picos=1_000_000, completion_picos=2_000_000))


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# --------------------------------------------------------------------------------------------- money


def test_units():
    assert MICROS_PER_USD == 1_000_000
    assert PICOS_PER_USD == 10**12
    assert PICOS_PER_MICRO == 1_000_000


@pytest.mark.parametrize(
    ("value", "micros"),
    [
        ("0.1", 100_000),
        (0.1, 100_000),  # floats go through their repr, so no 0.1000000000000000055
        (0.3, 300_000),
        (1, 1_000_000),
        ("12.345678", 12_345_678),
        (Decimal("2.5"), 2_500_000),
        ("0.0000005", 1),  # half a micro rounds up
        ("0.00000049", 0),
        ("-1.5", -1_500_000),
        ("1e-6", 1),
    ],
)
def test_usd_to_micros(value, micros):
    assert usd_to_micros(value) == micros


@pytest.mark.parametrize("value", ["abc", "", "nan", "inf", "-Infinity", float("nan")])
def test_usd_to_micros_refuses_what_is_not_an_amount(value):
    with pytest.raises(ValueError, match="not a dollar amount"):
        usd_to_micros(value)


@pytest.mark.parametrize(
    ("value", "picos"),
    [
        ("0.000001", 1_000_000),
        (2e-6, 2_000_000),
        ("0.0000000000005", 1),
        ("0", 0),
        ("-0.000001", 0),  # OpenRouter lists -1 for "variable"; never a negative price
        ("-1", 0),
        ("nan", 0),
        ("inf", 0),
        (1, 10**12),
    ],
)
def test_usd_to_picos(value, picos):
    assert usd_to_picos(value) == picos


def test_usd_to_picos_refuses_garbage():
    with pytest.raises(ValueError, match="not a price"):
        usd_to_picos("free")


@pytest.mark.parametrize(
    ("picos", "micros"), [(0, 0), (1, 1), (999_999, 1), (1_000_000, 1), (1_000_001, 2), (2_500_000, 3)]
)
def test_picos_to_micros_rounds_up(picos, micros):
    assert picos_to_micros_ceil(picos) == micros


@given(st.integers(min_value=0, max_value=10**21))
def test_picos_to_micros_is_the_exact_ceiling(picos):
    assert picos_to_micros_ceil(picos) == ceil_div(picos, PICOS_PER_MICRO)


def test_micros_to_usd_is_for_display():
    assert micros_to_usd(1_500_000) == 1.5
    assert micros_to_usd(1) == 0.000001
    assert micros_to_usd(0) == 0


# ------------------------------------------------------------------------------------------- pricing


def test_usage_total_tokens():
    assert Usage(3, 4).total_tokens == 7
    assert Usage().total_tokens == 0
    assert Usage().cost_micros is None


@pytest.mark.parametrize(
    ("body_bytes", "model", "tokens"),
    [
        (0, None, 1),  # at least one
        (2, None, 1),
        (30, None, 10),
        (31, None, 10),
        (3000, ModelInfo("m", context_length=500), 500),
        (3000, ModelInfo("m", context_length=None), 1000),
        (3000, ModelInfo("m", context_length=0), 1000),  # 0 means "not listed"
    ],
)
def test_estimate_prompt_tokens(body_bytes, model, tokens):
    assert estimate_prompt_tokens(body_bytes, model) == tokens


def test_worst_case_per_request_is_the_configured_price():
    sut = Plan("p", pricing=Pricing(PricingMode.PER_REQUEST, per_request_micros=2_500))

    assert worst_case_micros(sut, PRICED, 10_000, 100_000) == 2_500
    assert worst_case_micros(sut, None, 1, None) == 2_500


def test_worst_case_without_a_price_reserves_the_fallback():
    sut = Plan("p", fallback_reservation_micros=7_777)

    assert worst_case_micros(sut, None, 300, 10) == 7_777
    assert worst_case_micros(sut, ModelInfo("m"), 300, 10) == 7_777


def test_worst_case_with_max_tokens():
    # 300 bytes ~ 100 prompt tokens at $1/M, 50 completion tokens at $2/M, $0.0001 per request
    model = ModelInfo("m", ModelPrice(1_000_000, 2_000_000, request_picos=100_000_000))
    picos = 100_000_000 + 100 * 1_000_000 + 50 * 2_000_000

    assert worst_case_micros(Plan("p"), model, 300, 50) == ceil_div(picos, PICOS_PER_MICRO) == 300


def test_worst_case_uses_the_completion_budget_when_max_tokens_is_absent_or_not_positive():
    plan = Plan("p", completion_budget_tokens=4096)
    expected = ceil_div(100 * 1_000_000 + 4096 * 2_000_000, PICOS_PER_MICRO)

    assert expected == 8_292
    assert worst_case_micros(plan, PRICED, 300, None) == expected
    assert worst_case_micros(plan, PRICED, 300, 0) == expected
    assert worst_case_micros(plan, PRICED, 300, -5) == expected


def test_worst_case_caps_completion_and_prompt_at_the_model_limits():
    model = ModelInfo("m", ModelPrice(1_000_000, 2_000_000), context_length=50, max_completion_tokens=10)

    assert worst_case_micros(Plan("p"), model, 30_000, 1_000_000) == ceil_div(
        50 * 1_000_000 + 10 * 2_000_000, PICOS_PER_MICRO
    )


def test_worst_case_applies_the_multiplier_with_a_ceiling():
    plan = Plan("p", pricing=Pricing(multiplier=Fraction(3, 2)))
    # 1 prompt token ($1/M) + 1 completion token ($2/M) = 3_000_000 picos = 3 micros; * 1.5 = 4.5 -> 5
    assert worst_case_micros(plan, PRICED, 3, 1) == 5


def test_cost_from_catalog():
    assert cost_from_catalog(None, Usage(10, 10)) is None
    assert cost_from_catalog(ModelInfo("m"), Usage(10, 10)) is None
    assert cost_from_catalog(PRICED, Usage(0, 0)) == 0
    assert cost_from_catalog(PRICED, Usage(1, 0)) == 1
    assert cost_from_catalog(PRICED, Usage(1000, 500)) == 2_000
    model = ModelInfo("m", ModelPrice(prompt_picos=1, completion_picos=0, request_picos=0))
    assert cost_from_catalog(model, Usage(1, 0)) == 1  # a fraction of a micro-dollar is still a cost


@given(
    prompt=st.integers(0, 10**7),
    completion=st.integers(0, 10**7),
    prompt_picos=st.integers(0, 10**10),
    completion_picos=st.integers(0, 10**10),
    request_picos=st.integers(0, 10**13),
)
def test_cost_from_catalog_is_the_exact_ceiling(prompt, completion, prompt_picos, completion_picos, request_picos):
    model = ModelInfo("m", ModelPrice(prompt_picos, completion_picos, request_picos))
    picos = request_picos + prompt * prompt_picos + completion * completion_picos

    assert cost_from_catalog(model, Usage(prompt, completion)) == ceil_div(picos, PICOS_PER_MICRO)


def test_cost_from_catalog_stays_exact_for_large_amounts():
    # $100,000 and one pico-dollar: a float division loses the pico and under-charges
    model = ModelInfo("m", ModelPrice(prompt_picos=1, request_picos=10**17))

    assert cost_from_catalog(model, Usage(1, 0)) == 10**11 + 1


@pytest.mark.parametrize(
    ("multiplier", "cost", "charged"),
    [
        (Fraction(1), 1234, 1234),
        (Fraction(3, 2), 7, 11),  # 10.5 rounds up
        (Fraction(11, 10), 1001, 1102),  # 1101.1 rounds up
        (Fraction(1, 3), 1, 1),
        (Fraction(0), 500, 0),
        (Fraction(2), 0, 0),
    ],
)
def test_per_token_charge_is_the_cost_times_the_multiplier_rounded_up(multiplier, cost, charged):
    assert charge_micros(Plan("p", pricing=Pricing(multiplier=multiplier)), cost) == charged


def test_per_request_charge_ignores_the_upstream_cost():
    sut = Plan("p", pricing=Pricing(PricingMode.PER_REQUEST, per_request_micros=1_000, multiplier=Fraction(5)))

    assert charge_micros(sut, 0) == 1_000
    assert charge_micros(sut, 999_999) == 1_000


def test_listed_prices_are_what_the_plan_charges_per_million_tokens_or_per_request():
    from domain.catalog import ModelInfo, ModelPrice
    from domain.plans import Plan, Pricing, PricingMode
    from domain.pricing import ListedPrice, listed_price

    model = ModelInfo("m", ModelPrice(prompt_picos=150_000, completion_picos=600_001, request_picos=2_500_000))
    at_cost = Plan("at-cost")
    doubled = Plan("doubled", pricing=Pricing(multiplier=Fraction(2)))
    flat = Plan("flat", pricing=Pricing(PricingMode.PER_REQUEST, per_request_micros=10_000))

    # $0.15 and $0.600001 per million tokens; $0.0000025 a request, rounded up to a micro-dollar
    assert listed_price(at_cost, model) == ListedPrice(150_000, 600_001, 3)
    assert listed_price(doubled, model) == ListedPrice(300_000, 1_200_002, 5)
    assert listed_price(flat, model) == ListedPrice(None, None, 10_000) and listed_price(flat, model).flat
    assert listed_price(at_cost, ModelInfo("unpriced")) is None
    assert listed_price(flat, ModelInfo("unpriced")) == ListedPrice(None, None, 10_000)
