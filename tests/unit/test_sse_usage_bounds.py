"""The SSE classifier clamps usage as it reads it, on the strict path and the lenient one."""

import logging

import pytest

from domain.pricing import Usage
from domain.usage_bounds import MAX_COST_MICROS_PER_REQUEST, MAX_TOKENS_PER_REQUEST
from infrastructure.upstream.sse import classify


def frame(usage: str, model: str = '"vendor/model"') -> bytes:
    return b'data: {"model":' + model.encode() + b',"choices":[],"usage":' + usage.encode() + b"}\n\n"


@pytest.mark.parametrize(
    ("usage", "billed"),
    [
        ('{"prompt_tokens":1,"completion_tokens":2,"cost":-5}', Usage(1, 2, 0)),
        ('{"prompt_tokens":1,"completion_tokens":2,"cost":1e999}', Usage(1, 2, MAX_COST_MICROS_PER_REQUEST)),
        ('{"prompt_tokens":1,"completion_tokens":2,"cost":"Infinity"}', Usage(1, 2, None)),
        ('{"prompt_tokens":1,"completion_tokens":2,"cost":"NaN"}', Usage(1, 2, None)),
        ('{"prompt_tokens":1,"completion_tokens":2,"cost":[1]}', Usage(1, 2, None)),
        ('{"prompt_tokens":-1,"completion_tokens":2,"cost":0.5}', Usage(0, 2, 500_000)),
        ('{"prompt_tokens":20000000,"completion_tokens":0.5}', Usage(MAX_TOKENS_PER_REQUEST, 1, None)),
    ],
)
def test_odd_usage_is_clamped_and_reported(usage: str, billed: Usage) -> None:
    reports: list[tuple[object, tuple[str, ...]]] = []
    got = classify(frame(usage), lambda model, notes: reports.append((model, notes)))
    assert got.usage == billed
    assert got.report_only
    assert len(reports) == 1 and reports[0][1]


def test_the_default_report_is_one_warning_naming_the_model(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "sluice.upstream"):
        classify(frame('{"prompt_tokens":1,"completion_tokens":2,"cost":-5}'))
        classify(frame('{"prompt_tokens":"x","completion_tokens":2}', model="42"))
    assert [r.getMessage() for r in caplog.records] == [
        "the upstream reported odd usage for model vendor/model; clamped: cost '-5' is negative: counted as 0",
        "the upstream reported odd usage for model (not named); clamped: "
        "prompt_tokens 'x' is not a number: counted as 0",
    ]


def test_a_token_count_beyond_a_float_leaves_the_frame_unread() -> None:
    # msgspec cannot hold 1e999 outside a Raw field: no usage is read, so the request is billed like a
    # stream that never reported usage (estimated), never from the figure.
    raw = frame('{"prompt_tokens":1e999,"completion_tokens":2}')
    assert classify(raw, lambda *a: None).usage is None


def test_sane_usage_is_not_reported() -> None:
    reports: list[object] = []
    got = classify(frame('{"prompt_tokens":1,"completion_tokens":2,"cost":0.000003}'), lambda *a: reports.append(a))
    assert got.usage == Usage(1, 2, 3)
    assert reports == []
