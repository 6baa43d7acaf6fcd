"""Plans: named rate policies, model access, pricing, prepaid balance and spend caps.

The built-in `default` plan reproduces the proxy spec (150 chat and embedding requests per 30
minutes per account, 300 moderations per minute, no prepaid balance); `unlimited` serves an
operator's own services: no limits, no balance, still metered and recorded.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from domain.errors import InvalidRequest


class Endpoint(StrEnum):
    CHAT = "chat"
    EMBEDDINGS = "embeddings"
    IMAGES = "images"
    MODERATIONS = "moderations"


class Subject(StrEnum):
    ACCOUNT = "account"
    KEY = "key"
    IP = "ip"


class PricingMode(StrEnum):
    PER_TOKEN = "per_token"  # the upstream's reported cost, times the multiplier
    PER_REQUEST = "per_request"


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @property
    def adjective(self) -> str:
        """daily, weekly, monthly: OpenRouter's `limit_reset` words, and ours in messages."""
        return {"day": "daily", "week": "weekly", "month": "monthly"}[self.value]


def interval_label(seconds: float) -> str:
    """OpenRouter's `rate_limit.interval` form: 10s, 30m, 1h."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True, slots=True)
class RatePolicy:
    name: str
    endpoints: frozenset[Endpoint]
    limit: int
    window_seconds: float
    subject: Subject = Subject.ACCOUNT

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_seconds <= 0:
            raise InvalidRequest(f"rate policy {self.name!r} needs a positive limit and window")

    def applies_to(self, endpoint: Endpoint) -> bool:
        return endpoint in self.endpoints

    def interval_label(self) -> str:
        return interval_label(self.window_seconds)


@dataclass(frozen=True, slots=True)
class Pricing:
    mode: PricingMode = PricingMode.PER_TOKEN
    per_request_micros: int = 0
    multiplier: Fraction = Fraction(1)
    per_image_micros: int = 0  # where set, an image costs this whatever the upstream charged


@dataclass(frozen=True, slots=True)
class SpendCap:
    period: Period
    limit_micros: int


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    description: str = ""
    policies: tuple[RatePolicy, ...] = ()
    allowed_models: frozenset[str] | None = None  # None: every model the upstream serves
    pricing: Pricing = field(default_factory=Pricing)
    prepaid: bool = False  # charge a prepaid balance (402 when it runs out)
    spend_caps: tuple[SpendCap, ...] = ()
    completion_budget_tokens: int = 4096  # assumed completion length when reserving without max_tokens
    fallback_reservation_micros: int = 10_000  # reserved when the model's price is unknown

    def policies_for(self, endpoint: Endpoint) -> tuple[RatePolicy, ...]:
        return tuple(p for p in self.policies if p.applies_to(endpoint))

    def allows_model(self, model: str) -> bool:
        return self.allowed_models is None or model in self.allowed_models


DEFAULT_PLAN = Plan(
    name="default",
    description="150 chat and embedding requests per 30 minutes, 300 moderations per minute",
    policies=(
        RatePolicy("chat", frozenset({Endpoint.CHAT, Endpoint.EMBEDDINGS}), 150, 1800),
        RatePolicy("moderations", frozenset({Endpoint.MODERATIONS}), 300, 60),
        RatePolicy("images", frozenset({Endpoint.IMAGES}), 150, 1800),
    ),
)

UNLIMITED_PLAN = Plan(name="unlimited", description="no limits and no balance; metered and recorded")

BUILTIN_PLANS = (DEFAULT_PLAN, UNLIMITED_PLAN)


def period_start(period: Period, now: datetime) -> datetime:
    """Caps reset at UTC midnight, on Mondays, and on the first of the month."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_end(period: Period, now: datetime) -> datetime:
    start = period_start(period, now)
    if period is Period.DAY:
        return start + timedelta(days=1)
    if period is Period.WEEK:
        return start + timedelta(days=7)
    return (start + timedelta(days=32)).replace(day=1)
