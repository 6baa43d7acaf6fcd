"""`domain.rate_policy.peek`: the dashboard's read of a bucket agrees with what `gcra` would decide."""

from hypothesis import given
from hypothesis import strategies as st

from domain.rate_policy import gcra, peek
from tests.unit.test_rate_policy import arrivals, burst_size, gap_fractions, limits, rate_settings, run, starts, windows


@rate_settings
@given(
    limit=limits,
    window=windows,
    start=starts,
    fractions=st.lists(gap_fractions, min_size=0, max_size=80),
    later=st.floats(min_value=0, max_value=1.5, allow_nan=False),
    cost=st.integers(min_value=1, max_value=3),
)
def test_peek_says_what_a_request_now_would_find(
    limit: int, window: float, start: float, fractions: list[float], later: float, cost: int
) -> None:
    times = arrivals(window, start, fractions)
    _, tat = run(limit, window, times)
    now = (times[-1] if times else start) + later * window / limit
    seen = peek(tat, now, limit, window, cost)
    decision, _ = gcra(tat, now, limit, window, cost)
    # Whether it would be admitted, and when it could be: exactly gcra's answer.
    assert seen.allowed == decision.allowed
    assert seen.retry_after == decision.retry_after
    assert seen.limit == limit
    # `remaining` is what would get in now, one unit request after another ...
    assert seen.remaining == burst_size(tat, now, limit, window)[0]
    # ... so it is one more than what gcra reports after admitting one, and equal when it denies.
    unit, _ = gcra(tat, now, limit, window)
    assert seen.remaining == (unit.remaining + 1 if unit.allowed else unit.remaining)
    # reset_after: the whole burst is back then (gcra's, before the request it would take).
    assert 0 <= seen.reset_after <= window
    assert burst_size(tat, now + seen.reset_after, limit, window)[0] == limit


def test_a_fresh_subject_has_its_whole_burst() -> None:
    seen = peek(None, 1000.0, 5, 60)
    assert (seen.allowed, seen.limit, seen.remaining, seen.reset_after, seen.retry_after) == (True, 5, 5, 0.0, 0.0)


def test_an_exhausted_subject_shows_zero_and_when_the_next_request_gets_in() -> None:
    tat = None
    for _ in range(5):
        decision, tat = gcra(tat, 1000.0, 5, 60)
        assert decision.allowed
    seen = peek(tat, 1000.0, 5, 60)
    assert (seen.allowed, seen.remaining) == (False, 0)
    assert seen.retry_after == 12.0  # one interval: 60 s / 5
    assert seen.reset_after == 60.0
    three_intervals_later = peek(tat, 1036.0, 5, 60)
    assert (three_intervals_later.allowed, three_intervals_later.remaining) == (True, 3)
    assert three_intervals_later.reset_after == 24.0
