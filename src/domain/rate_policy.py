"""Rate policy as pure arithmetic: the generic cell rate algorithm (GCRA).

A policy of `limit` requests per `window` seconds admits a burst of `limit` and then one request
every `window / limit` seconds. The whole state of a subject is one number, its theoretical
arrival time (TAT), which is why a store can decide atomically in one round trip. The Redis Lua
script in the infrastructure layer is a transliteration of `gcra`; a shared contract test keeps
the two in step.

The arithmetic runs on integers: times are counted in ticks of 2**-20 s (about 0.95 µs), the
emission interval is the window's ticks divided by the limit, rounded down, and the burst
tolerance is exactly `limit` intervals. In floating-point seconds the TAT accumulates rounding
error with every addition, so a fresh burst of `limit` requests was often cut to `limit - 1` and a
retry at `now + retry_after` could still be refused. On the tick grid every sum is exact (below
2**53 ticks, some 270 years), a tick converts to seconds exactly (a power of two), and the Lua
script, whose numbers are doubles, computes the very same integers. The rounding makes the
steady rate at most one tick per request faster than `limit / window`; the resolution limits
sensible policies to about a million requests per second.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: float  # seconds until the subject has its whole burst back
    retry_after: float  # seconds until this request would have been admitted; 0 when admitted


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """One policy applied to one subject: the unit a limiter store decides on."""

    key: str
    limit: int
    window: float
    cost: int = 1


TICKS_PER_SECOND = 1 << 20


def to_ticks(seconds: float) -> int:
    """Seconds to whole ticks, rounded down (exact: the scale is a power of two)."""
    return math.floor(seconds * TICKS_PER_SECOND)


def gcra(tat: float | None, now: float, limit: int, window: float, cost: int = 1) -> tuple[Decision, float | None]:
    """Decide one request; returns the decision and the TAT to store (unchanged when denied)."""
    now_t = to_ticks(now)
    interval = max(1, to_ticks(window) // limit)
    tolerance = interval * limit  # the burst: the window rounded down to whole intervals
    tat_t = None if tat is None else to_ticks(tat)
    base = now_t if tat_t is None or tat_t < now_t else tat_t
    new_tat = base + cost * interval
    allow_at = new_tat - tolerance
    if now_t < allow_at:
        remaining = max(0, (tolerance - (base - now_t)) // interval)
        return Decision(False, limit, remaining, _seconds(base - now_t), _seconds(allow_at - now_t)), tat
    remaining = max(0, (tolerance - (new_tat - now_t)) // interval)
    return Decision(True, limit, remaining, _seconds(new_tat - now_t), 0.0), _seconds(new_tat)


def peek(tat: float | None, now: float, limit: int, window: float, cost: int = 1) -> Decision:
    """The state of a subject as a request of `cost` would find it now, without spending anything.

    `remaining` counts the unit requests that would be admitted now, one after another (one more
    than `gcra` reports after admitting a request, since nothing is taken); `allowed` says whether
    a request of `cost` would be admitted; `reset_after` and `retry_after` are as in `gcra`.
    """
    now_t = to_ticks(now)
    interval = max(1, to_ticks(window) // limit)
    tolerance = interval * limit
    tat_t = None if tat is None else to_ticks(tat)
    base = now_t if tat_t is None or tat_t < now_t else tat_t
    allow_at = base + cost * interval - tolerance
    remaining = max(0, (tolerance - (base - now_t)) // interval)
    return Decision(now_t >= allow_at, limit, remaining, _seconds(base - now_t), _seconds(max(0, allow_at - now_t)))


def _seconds(ticks: int) -> float:
    return ticks / TICKS_PER_SECOND


def decide_all(
    tats: Sequence[float | None], now: float, checks: Sequence[LimitCheck]
) -> tuple[list[Decision], list[float | None]]:
    """All or nothing: a request denied by one policy consumes no capacity in the others."""
    results = [gcra(tat, now, c.limit, c.window, c.cost) for tat, c in zip(tats, checks, strict=True)]
    decisions = [decision for decision, _ in results]
    if all(d.allowed for d in decisions):
        return decisions, [new_tat for _, new_tat in results]
    return decisions, list(tats)


def tightest(decisions: Sequence[Decision]) -> Decision | None:
    """The decision a client should see in its headers: a denial, else the fewest remaining."""
    if not decisions:
        return None
    denied = [d for d in decisions if not d.allowed]
    if denied:
        return max(denied, key=lambda d: d.retry_after)
    return min(decisions, key=lambda d: (d.remaining, -d.reset_after))
