"""What an audit entry keeps of a value before and after a change: small, JSON-able, stable."""

from collections.abc import Sequence

from domain.audit import JsonValue
from domain.plans import RatePolicy, SpendCapOverride


def limits_snapshot(policies: Sequence[RatePolicy]) -> list[JsonValue]:
    return [
        {
            "name": p.name,
            "requests": p.limit,
            "window_seconds": p.window_seconds,
            "subject": p.subject.value,
            "endpoints": sorted(e.value for e in p.endpoints),
        }
        for p in policies
    ]


def spend_caps_snapshot(overrides: Sequence[SpendCapOverride]) -> dict[str, JsonValue]:
    """Period -> micro-dollars, or None where the override lifts the plan's cap; absent: the plan's."""
    return {o.period.value: o.limit_micros for o in overrides}
