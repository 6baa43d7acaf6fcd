"""The gateway spec's bounds on a chat completion's sampling fields."""

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidRequest
from interfaces.http.chat_validation import validate_chat_fields
from interfaces.http.openai.wire import read_fields


def fields(body: str) -> dict[str, msgspec.Raw]:
    return read_fields(body.encode())


def check(body: str) -> None:
    validate_chat_fields(fields(body))


@pytest.mark.parametrize(
    "body",
    [
        '{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}',
        '{"temperature": 0.7, "max_tokens": 512, "stream": false}',  # the spec's example
        '{"temperature": 0, "top_p": 0}',
        '{"temperature": 2, "top_p": 1}',
        '{"temperature": 1.999, "top_p": 0.5e0}',
        '{"temperature": null, "top_p": null, "stop": null, "n": null, "max_tokens": null}',
        '{"stop": "\\n"}',
        '{"stop": ""}',
        '{"stop": []}',
        '{"stop": ["a", "b", "c", "d"]}',
        '{"stop": [ "a" , "\\u00e9" ]}',
        '{"n": 1}',
        '{"n": 128}',
        '{"max_tokens": 1, "max_completion_tokens": 2147483647}',
        '{"max_completion_tokens": 150}',
        '{"unknown": {"whatever": [1, 2]}, "logit_bias": {"50256": -100}}',
    ],
)
def test_accepted(body: str) -> None:
    check(body)


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        ('{"temperature": 2.5}', "temperature", "'temperature' must be a number from 0 to 2, got 2.5"),
        ('{"temperature": -0.1}', "temperature", "got -0.1"),
        ('{"temperature": "0.7"}', "temperature", 'got "0.7"'),
        ('{"temperature": true}', "temperature", "got true"),
        ('{"temperature": 1e400}', "temperature", "got 1e400"),
        ('{"temperature": [1]}', "temperature", "got [1]"),
        ('{"top_p": 1.01}', "top_p", "'top_p' must be a number from 0 to 1, got 1.01"),
        ('{"top_p": -1}', "top_p", "got -1"),
        ('{"top_p": {}}', "top_p", "got {}"),
        ('{"stop": ["a", "b", "c", "d", "e"]}', "stop", "'stop' must be a string or an array of at most 4 strings"),
        ('{"stop": ["a", 1]}', "stop", 'got ["a", 1]'),
        ('{"stop": [null]}', "stop", "got [null]"),
        ('{"stop": 4}', "stop", "got 4"),
        ('{"stop": {"a": "b"}}', "stop", "got {"),
        ('{"stop": false}', "stop", "got false"),
        ('{"n": 0}', "n", "'n' must be an integer from 1 to 128, got 0"),
        ('{"n": 129}', "n", "got 129"),
        ('{"n": 2.0}', "n", "got 2.0"),
        ('{"n": "2"}', "n", 'got "2"'),
        ('{"n": true}', "n", "got true"),
        ('{"max_tokens": 0}', "max_tokens", "'max_tokens' must be an integer from 1 to 2147483647, got 0"),
        ('{"max_tokens": -5}', "max_tokens", "got -5"),
        ('{"max_tokens": 512.0}', "max_tokens", "got 512.0"),
        ('{"max_tokens": 2147483648}', "max_tokens", "got 2147483648"),
        ('{"max_tokens": 99999999999999999999999999}', "max_tokens", "got 99999999999999999999999999"),
        ('{"max_completion_tokens": "150"}', "max_completion_tokens", 'got "150"'),
        ('{"max_tokens": 10, "max_completion_tokens": 0}', "max_completion_tokens", "got 0"),
    ],
)
def test_refused(body: str, param: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check(body)
    assert caught.value.param == param
    assert message in caught.value.detail


def test_a_long_value_is_quoted_back_short() -> None:
    with pytest.raises(InvalidRequest) as caught:
        check('{"stop": ' + msgspec.json.encode(["x" * 500] * 5).decode() + "}")
    assert caught.value.detail.endswith("...") and len(caught.value.detail) < 120


def test_the_first_bad_field_in_a_fixed_order_is_named() -> None:
    with pytest.raises(InvalidRequest) as caught:
        check('{"n": 0, "temperature": 9}')
    assert caught.value.param == "temperature"


@given(st.floats(allow_nan=False, allow_infinity=False), st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_are_accepted_exactly_within_their_bounds(temperature: float, top_p: float) -> None:
    body = msgspec.json.encode({"temperature": temperature, "top_p": top_p}).decode()
    if 0 <= temperature <= 2 and 0 <= top_p <= 1:
        check(body)
    else:
        with pytest.raises(InvalidRequest):
            check(body)


@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_integers_are_accepted_exactly_within_their_bounds(n: int) -> None:
    if 1 <= n <= 128:
        check(f'{{"n": {n}, "max_tokens": {n}}}')
    else:
        with pytest.raises(InvalidRequest):
            check(f'{{"n": {n}}}')
    if 1 <= n <= 2**31 - 1:
        check(f'{{"max_tokens": {n}, "max_completion_tokens": {n}}}')
    else:
        with pytest.raises(InvalidRequest):
            check(f'{{"max_completion_tokens": {n}}}')
