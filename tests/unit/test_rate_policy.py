"""Properties of the pure GCRA in domain.rate_policy, on random policies and arrival times.

What GCRA promises (and what it does not): a fresh subject gets a burst of exactly `limit`, then
one request per `window / limit`. So over any span of time T at most `limit + T * limit / window`
requests get in; over a span of one window that is up to 2 * limit - 1, not `limit` (a
sliding-window log would promise that, GCRA does not).
"""

import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.rate_policy import Decision, LimitCheck, decide_all, gcra

# Policies with an emission interval of at least 1 ms, far above the arithmetic's resolution.
limits = st.integers(min_value=1, max_value=200)
windows = st.floats(min_value=0.2, max_value=100_000, allow_nan=False, allow_infinity=False)
# Both a monotonic clock (seconds since boot) and a wall clock (seconds since 1970).
starts = st.one_of(
    st.floats(min_value=0, max_value=10_000, allow_nan=False),
    st.floats(min_value=1.5e9, max_value=2.1e9, allow_nan=False),
)
# Gaps between arrivals, as fractions of the window: many simultaneous arrivals, some long pauses.
gap_fractions = st.one_of(
    st.just(0.0),
    st.floats(min_value=0, max_value=0.05, allow_nan=False),
    st.floats(min_value=0, max_value=1.5, allow_nan=False),
)

rate_settings = settings(deadline=None, max_examples=200)


def arrivals(window: float, start: float, fractions: list[float]) -> list[float]:
    times, t = [], start
    for f in fractions:
        t += f * window
        times.append(t)
    return times


def run(
    limit: int, window: float, times: list[float], costs: list[int] | None = None, tat: float | None = None
) -> tuple[list[tuple[float, int, Decision]], float | None]:
    """Feeds the arrivals through gcra; returns (time, cost, decision) per arrival and the final TAT."""
    out = []
    for i, now in enumerate(times):
        cost = 1 if costs is None else costs[i]
        decision, new_tat = gcra(tat, now, limit, window, cost)
        if not decision.allowed:
            assert new_tat == tat
        tat = new_tat
        out.append((now, cost, decision))
    return out, tat


def burst_size(tat: float | None, now: float, limit: int, window: float) -> tuple[int, float | None]:
    """How many unit requests are admitted at `now`, one after another."""
    admitted = 0
    while True:
        decision, new_tat = gcra(tat, now, limit, window)
        if not decision.allowed:
            return admitted, tat
        admitted += 1
        tat = new_tat
        assert admitted <= limit


@rate_settings
@given(limit=limits, window=windows, start=starts)
def test_a_fresh_subject_gets_a_burst_of_exactly_limit(limit: int, window: float, start: float) -> None:
    admitted, _ = burst_size(None, start, limit, window)
    assert admitted == limit


@rate_settings
@given(
    limit=limits,
    window=windows,
    start=starts,
    fractions=st.lists(gap_fractions, min_size=1, max_size=300),
    cost_seed=st.lists(st.integers(min_value=1, max_value=3), min_size=300, max_size=300),
)
def test_admissions_never_exceed_burst_plus_rate_over_any_span(
    limit: int, window: float, start: float, fractions: list[float], cost_seed: list[int]
) -> None:
    times = arrivals(window, start, fractions)
    results, _ = run(limit, window, times, cost_seed[: len(times)])
    admitted = [(t, cost) for t, cost, d in results if d.allowed]
    rate = limit / window
    for i in range(len(admitted)):
        total = 0
        for j in range(i, len(admitted)):
            total += admitted[j][1]
            span = admitted[j][0] - admitted[i][0]
            # The small factor covers the resolution of the arithmetic (about a microsecond).
            assert total <= limit + math.floor(span * rate * 1.002 + 0.002), (i, j, total, span)
            if span < window / limit / 2:
                assert total <= limit + 1
            if span == 0:
                assert total <= limit


@rate_settings
@given(limit=limits, window=windows, start=starts, k=st.integers(min_value=1, max_value=400))
def test_a_client_paced_at_the_nominal_rate_is_never_refused(limit: int, window: float, start: float, k: int) -> None:
    spacing = window / limit * (1 + 1e-6)
    results, _ = run(limit, window, [start + i * spacing for i in range(k)])
    assert all(d.allowed for _, _, d in results)


@rate_settings
@given(
    limit=limits,
    window=windows,
    start=starts,
    fractions=st.lists(gap_fractions, min_size=0, max_size=100),
    idle=st.floats(min_value=1.0, max_value=3.0),
)
def test_after_a_full_window_of_idleness_the_full_burst_is_back(
    limit: int, window: float, start: float, fractions: list[float], idle: float
) -> None:
    times = arrivals(window, start, [0.0, *fractions])
    _, tat = run(limit, window, times)
    admitted, _ = burst_size(tat, times[-1] + idle * window, limit, window)
    assert admitted == limit


@rate_settings
@given(
    limit=limits,
    window=windows,
    start=starts,
    fractions=st.lists(gap_fractions, min_size=0, max_size=60),
    costs=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=60),
)
def test_remaining_falls_by_the_cost_within_a_burst_and_counts_what_is_left(
    limit: int, window: float, start: float, fractions: list[float], costs: list[int]
) -> None:
    times = arrivals(window, start, [0.0, *fractions])
    _, tat = run(limit, window, times)
    now = times[-1]
    previous: int | None = None
    for cost in costs:
        decision, new_tat = gcra(tat, now, limit, window, cost)
        assert 0 <= decision.remaining <= limit
        if previous is not None:
            expected = previous - cost if decision.allowed else previous
            assert decision.remaining == expected
        # The header's promise: exactly `remaining` more unit requests get in right now.
        assert burst_size(new_tat, now, limit, window)[0] == decision.remaining
        if decision.allowed:
            tat = new_tat
        previous = decision.remaining


@rate_settings
@given(limit=limits, window=windows, start=starts, fractions=st.lists(gap_fractions, min_size=1, max_size=60))
def test_reset_after_is_when_the_full_burst_is_back(
    limit: int, window: float, start: float, fractions: list[float]
) -> None:
    results, tat = run(limit, window, arrivals(window, start, fractions))
    now, _, decision = results[-1]
    assert 0 <= decision.reset_after <= window
    assert burst_size(tat, now + decision.reset_after, limit, window)[0] == limit
    if decision.reset_after > 1e-5:
        assert burst_size(tat, now + decision.reset_after - 1e-5, limit, window)[0] < limit


@rate_settings
@given(
    limit=limits,
    window=windows,
    start=starts,
    fractions=st.lists(gap_fractions, min_size=0, max_size=100),
    cost=st.integers(min_value=1, max_value=5),
    later=st.floats(min_value=0, max_value=1.2, allow_nan=False),
)
def test_denials_leave_the_state_alone_and_retry_after_is_exact(
    limit: int, window: float, start: float, fractions: list[float], cost: int, later: float
) -> None:
    assume(cost <= limit)
    times = arrivals(window, start, [0.0, *fractions])
    _, tat = run(limit, window, times)
    exhausted = burst_size(tat, times[-1], limit, window)[1]
    now = times[-1] + later * window / limit
    decision, new_tat = gcra(exhausted, now, limit, window, cost)
    if decision.allowed:
        assert decision.retry_after == 0.0
        return
    assert new_tat == exhausted
    assert decision.retry_after > 0
    assert decision.reset_after <= window
    retried, _ = gcra(exhausted, now + decision.retry_after, limit, window, cost)
    assert retried.allowed
    if decision.retry_after > 1e-5:
        assert not gcra(exhausted, now + decision.retry_after - 1e-5, limit, window, cost)[0].allowed


policy = st.tuples(limits, windows, st.integers(min_value=1, max_value=3))


@rate_settings
@given(
    policies=st.lists(policy, min_size=1, max_size=4),
    start=starts,
    offsets=st.lists(
        st.one_of(st.none(), st.floats(min_value=-2.0, max_value=1.2, allow_nan=False)), min_size=4, max_size=4
    ),
)
def test_decide_all_is_all_or_nothing(
    policies: list[tuple[int, float, int]], start: float, offsets: list[float | None]
) -> None:
    checks = [LimitCheck(f"k{i}", limit, window, cost) for i, (limit, window, cost) in enumerate(policies)]
    # TATs anywhere from long past to a little beyond a full window ahead of now.
    tats = [None if off is None else start + off * c.window for off, c in zip(offsets, checks, strict=False)]
    decisions, new_tats = decide_all(tats, start, checks)
    singles = [gcra(tat, start, c.limit, c.window, c.cost) for tat, c in zip(tats, checks, strict=True)]
    assert decisions == [d for d, _ in singles]
    if all(d.allowed for d in decisions):
        assert new_tats == [t for _, t in singles]
    else:
        assert new_tats == tats


def test_decide_all_on_a_denial_consumes_nothing_in_the_other_policies() -> None:
    roomy, tight = LimitCheck("roomy", 10, 60), LimitCheck("tight", 1, 60)
    _, tats = decide_all([None, None], 100.0, [roomy, tight])
    decisions, after = decide_all(tats, 100.0, [roomy, tight])
    assert [d.allowed for d in decisions] == [True, False]
    assert after == tats
    assert gcra(after[0], 100.0, 10, 60)[0].remaining == 8
