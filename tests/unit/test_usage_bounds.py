"""What an upstream reports is bounded before it is billed: a negative cost once credited a balance."""

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.plans import Plan, Pricing, PricingMode
from domain.pricing import Usage, charge_micros
from domain.usage_bounds import (
    MAX_COST_MICROS_PER_REQUEST,
    MAX_COST_USD_PER_REQUEST,
    MAX_TOKENS_PER_REQUEST,
    bounded_cost_micros,
    bounded_tokens,
    bounded_usage,
)


def test_the_bounds_are_what_the_docs_say() -> None:
    assert MAX_TOKENS_PER_REQUEST == 10_000_000
    assert MAX_COST_USD_PER_REQUEST == 1_000
    assert MAX_COST_MICROS_PER_REQUEST == 1_000_000_000


def test_sane_figures_pass_without_a_note() -> None:
    assert bounded_usage(12, 5, "0.000022") == (Usage(12, 5, 22), ())
    assert bounded_usage(None, None, None) == (Usage(0, 0, None), ())
    assert bounded_usage(3.0, MAX_TOKENS_PER_REQUEST, "1000") == (Usage(3, MAX_TOKENS_PER_REQUEST, 1_000_000_000), ())


@pytest.mark.parametrize(
    ("value", "tokens", "note"),
    [
        (-5, 0, "prompt_tokens -5 is negative: counted as 0"),
        (-0.5, 0, "prompt_tokens -0.5 is negative: counted as 0"),
        (MAX_TOKENS_PER_REQUEST + 1, MAX_TOKENS_PER_REQUEST, "prompt_tokens 10000001 is above 10000000"),
        (1e300, MAX_TOKENS_PER_REQUEST, "is above 10000000"),
        (2.2, 3, "prompt_tokens 2.2 is fractional: counted as 3"),
        ("12", 0, "prompt_tokens '12' is not a number: counted as 0"),
        (True, 0, "prompt_tokens True is not a number"),
        ({"n": 1}, 0, "is not a number"),
        ([1], 0, "is not a number"),
        (math.nan, 0, "prompt_tokens nan is not a number"),
        (math.inf, 0, "prompt_tokens inf is not a number"),
        (-math.inf, 0, "is not a number"),
    ],
)
def test_odd_token_counts_are_clamped_with_a_note(value: object, tokens: int, note: str) -> None:
    counted, why = bounded_tokens("prompt_tokens", value)
    assert counted == tokens
    assert why is not None and note in why


@pytest.mark.parametrize(
    ("value", "micros", "note"),
    [
        ("-5", 0, "cost '-5' is negative: counted as 0"),
        (-5, 0, "cost -5 is negative"),
        ("-0.000001", 0, "is negative"),
        ("1000.000001", MAX_COST_MICROS_PER_REQUEST, "cost '1000.000001' is above $1000: counted as that"),
        ("1e999999999", MAX_COST_MICROS_PER_REQUEST, "is above $1000"),
        ("abc", None, "cost 'abc' is not a number: the catalogue price applies"),
        ("true", None, "is not a number"),
        (True, None, "cost True is not a number"),
        ("{}", None, "is not a number"),
        ({"usd": 1}, None, "is not a number"),
        ("NaN", None, "cost 'NaN' is not a number"),
        ("sNaN", None, "is not a number"),
        ("Infinity", None, "is not a number"),
        ("-Infinity", None, "is not a number"),
        (math.nan, None, "is not a number"),
        ("", None, "is not a number"),
    ],
)
def test_odd_costs_are_clamped_or_unknown_with_a_note(value: object, micros: int | None, note: str) -> None:
    counted, why = bounded_cost_micros(value)
    assert counted == micros
    assert why is not None and note in why


def test_a_note_quotes_only_the_start_of_a_long_value() -> None:
    _, why = bounded_cost_micros("x" * 10_000)
    assert why is not None and len(why) < 120


def test_all_notes_come_back_together() -> None:
    usage, notes = bounded_usage(-1, "x", "-5")
    assert usage == Usage(0, 0, 0)
    assert [note.split()[0] for note in notes] == ["prompt_tokens", "completion_tokens", "cost"]


@given(st.one_of(st.integers(), st.floats(allow_nan=True), st.text(max_size=20), st.booleans(), st.none()))
def test_no_figure_leaves_the_bounds(value: object) -> None:
    tokens, _ = bounded_tokens("t", value)
    assert 0 <= tokens <= MAX_TOKENS_PER_REQUEST
    cost, _ = bounded_cost_micros(value)
    assert cost is None or 0 <= cost <= MAX_COST_MICROS_PER_REQUEST


@given(st.decimals(allow_nan=True, allow_infinity=True).map(str))
def test_no_decimal_text_leaves_the_cost_bounds(text: str) -> None:
    cost, note = bounded_cost_micros(text)
    assert cost is None or 0 <= cost <= MAX_COST_MICROS_PER_REQUEST
    amount = Decimal(text)
    if amount.is_finite() and 0 <= amount <= MAX_COST_USD_PER_REQUEST:
        assert note is None


@pytest.mark.parametrize("cost", [-1, -5_000_000, -(10**30)])
@pytest.mark.parametrize("multiplier", [Fraction(1), Fraction(2), Fraction(1, 3)])
def test_a_charge_is_never_negative(cost: int, multiplier: Fraction) -> None:
    assert charge_micros(Plan("p", pricing=Pricing(multiplier=multiplier)), cost) == 0


def test_a_per_request_charge_is_never_negative() -> None:
    plan = Plan("p", pricing=Pricing(PricingMode.PER_REQUEST, per_request_micros=-10))
    assert charge_micros(plan, 5) == 0
