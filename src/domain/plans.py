"""Plans: named rate policies, model access, pricing, prepaid balance and spend caps.

The built-in plans reproduce the three specs (docs: README, "Plans"):

- `default` (proxy spec): 150 chat and embedding requests per 30 minutes per account, 300
  moderations per minute, 150 image requests per 30 minutes; no prepaid balance.
- `credits` (credits spec): prepaid, $1 (one credit) per request, 60 requests a minute per IP
  address over every endpoint, no concurrency limit.
- `free`, `standard`, `pro` (gateway spec, "per API key on a per-minute basis"): 10/60/300 chat
  and embedding requests and 5/20/60 image requests a minute per key, plus 300 moderations a
  minute per key on each (the spec names no moderations limit; a generous one keeps it bounded).
- `enterprise`: limits set per account by the operator (`sluice accounts limits`); until they are,
  `pro`'s.
- `unlimited`: an operator's own services; no limits, no balance, still metered and recorded.

Any account may carry rate-policy overrides (`Account.rate_limits`) that take precedence over its
plan's bucket by bucket: `effective_policies` is the rule. Spend caps likewise, period by period
(`Account.spend_caps`, `effective_spend_caps`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType

from domain.errors import InvalidRequest
from domain.rate_policy import LimitCheck


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

    def check(self, subject_id: str) -> LimitCheck:
        """This policy applied to one subject (an account, key or IP address id): the store's key
        names the bucket and the subject, so admission and the dashboard's peek read the same state."""
        return LimitCheck(f"rl:{self.name}:{self.subject}:{subject_id}", self.limit, self.window_seconds)


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
class SpendCapOverride:
    """An account's own cap for one period, in place of its plan's (see `effective_spend_caps`)."""

    period: Period
    limit_micros: int | None  # None: no cap for this period, whatever the plan says

    def __post_init__(self) -> None:
        if self.limit_micros is not None and self.limit_micros < 0:
            raise InvalidRequest(f"a {self.period.adjective} spend cap cannot be negative", param=self.period.value)


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
    moderate_input: bool = False  # chat input goes to the moderation model first; flagged input is a 403

    def policies_for(self, endpoint: Endpoint) -> tuple[RatePolicy, ...]:
        return tuple(p for p in self.policies if p.applies_to(endpoint))

    def allows_model(self, model: str) -> bool:
        return self.allowed_models is None or model in self.allowed_models


_CHAT_AND_EMBEDDINGS = frozenset({Endpoint.CHAT, Endpoint.EMBEDDINGS})
_IMAGES = frozenset({Endpoint.IMAGES})
_MODERATIONS = frozenset({Endpoint.MODERATIONS})

# The endpoints of a bucket an override names when the plan has no bucket of that name.
STANDARD_BUCKETS: Mapping[str, frozenset[Endpoint]] = MappingProxyType(
    {
        "chat": _CHAT_AND_EMBEDDINGS,
        "embeddings": frozenset({Endpoint.EMBEDDINGS}),
        "images": _IMAGES,
        "moderations": _MODERATIONS,
    }
)

DEFAULT_PLAN = Plan(
    name="default",
    description="150 chat and embedding requests per 30 minutes, 300 moderations per minute",
    policies=(
        RatePolicy("chat", _CHAT_AND_EMBEDDINGS, 150, 1800),
        RatePolicy("moderations", _MODERATIONS, 300, 60),
        RatePolicy("images", _IMAGES, 150, 1800),
    ),
)

UNLIMITED_PLAN = Plan(name="unlimited", description="no limits and no balance; metered and recorded")

CREDITS_PLAN = Plan(
    name="credits",
    description="prepaid, one credit ($1) per request, 60 requests a minute per IP address",
    policies=(RatePolicy("per-ip", frozenset(Endpoint), 60, 60, Subject.IP),),
    pricing=Pricing(PricingMode.PER_REQUEST, per_request_micros=1_000_000),
    prepaid=True,
)


def _per_key_tier(name: str, chat_rpm: int, images_rpm: int, note: str) -> Plan:
    return Plan(
        name=name,
        description=f"{chat_rpm} chat and {images_rpm} image requests a minute per key ({note})",
        policies=(
            RatePolicy("chat", _CHAT_AND_EMBEDDINGS, chat_rpm, 60, Subject.KEY),
            RatePolicy("images", _IMAGES, images_rpm, 60, Subject.KEY),
            RatePolicy("moderations", _MODERATIONS, 300, 60, Subject.KEY),
        ),
    )


FREE_PLAN = _per_key_tier("free", 10, 5, "for evaluation only")
STANDARD_PLAN = _per_key_tier("standard", 60, 20, "the default for paying accounts")
PRO_PLAN = _per_key_tier("pro", 300, 60, "higher throughput")
ENTERPRISE_PLAN = replace(
    PRO_PLAN,
    name="enterprise",
    description="limits set per account by the operator (sluice accounts limits); pro's until set",
)

BUILTIN_PLANS = (
    DEFAULT_PLAN,
    UNLIMITED_PLAN,
    CREDITS_PLAN,
    FREE_PLAN,
    STANDARD_PLAN,
    PRO_PLAN,
    ENTERPRISE_PLAN,
)


# ---- per-account overrides -------------------------------------------------------------------


def effective_policies(plan: Plan, account_overrides: Sequence[RatePolicy] | None) -> tuple[RatePolicy, ...]:
    """The plan's policies with the account's overrides taking precedence bucket by bucket.

    An override replaces the plan's policy of the same name where it stands; an override naming
    no bucket of the plan is added after them. No overrides: the plan's own tuple, unchanged.
    """
    if not account_overrides:
        return plan.policies
    overrides = {policy.name: policy for policy in account_overrides}
    merged = [overrides.pop(policy.name, policy) for policy in plan.policies]
    merged.extend(overrides.values())
    return tuple(merged)


def effective_spend_caps(plan: Plan, overrides: Sequence[SpendCapOverride] | None) -> tuple[SpendCap, ...]:
    """The plan's caps with the account's overrides taking precedence period by period.

    An override replaces the plan's cap of its period (an override without a limit removes it);
    an override of a period the plan does not cap adds a cap. No overrides: the plan's own tuple.
    """
    if not overrides:
        return plan.spend_caps
    by_period = {o.period: o for o in overrides}
    merged: list[SpendCap] = []
    for cap in plan.spend_caps:
        override = by_period.pop(cap.period, None)
        if override is None:
            merged.append(cap)
        elif override.limit_micros is not None:
            merged.append(SpendCap(cap.period, override.limit_micros))
    merged.extend(SpendCap(o.period, o.limit_micros) for o in by_period.values() if o.limit_micros is not None)
    return tuple(merged)


def with_account_limits(
    plan: Plan,
    account_overrides: Sequence[RatePolicy] | None,
    spend_overrides: Sequence[SpendCapOverride] | None = None,
) -> Plan:
    """The plan in force for one account: `plan` itself when the account overrides nothing."""
    if not account_overrides and not spend_overrides:
        return plan
    return replace(
        plan,
        policies=effective_policies(plan, account_overrides),
        spend_caps=effective_spend_caps(plan, spend_overrides),
    )


def merge_spend_overrides(
    current: Sequence[SpendCapOverride], changes: Sequence[SpendCapOverride], dropped: Sequence[Period] = ()
) -> tuple[SpendCapOverride, ...]:
    """`current` without the `dropped` periods, each of `changes` replacing the override of its
    period; in period order (day, week, month) so that equal sets compare equal."""
    by_period = {o.period: o for o in current if o.period not in dropped}
    by_period.update({o.period: o for o in changes})
    return tuple(by_period[p] for p in Period if p in by_period)


def rate_override(
    plan: Plan,
    current: Sequence[RatePolicy],
    name: str,
    limit: int,
    window_seconds: float,
    subject: Subject | None = None,
) -> RatePolicy:
    """An override of bucket `name`: `limit` requests per `window_seconds`.

    Its endpoints (and, unless `subject` is given, its subject) are those of the account's current
    override of that name, else of the plan's bucket of that name, else of the standard bucket
    (chat: chat and embeddings; embeddings; images; moderations) counted per account.
    """
    name = name.strip()
    base = next((p for p in (*current, *plan.policies) if p.name == name), None)
    if base is not None:
        endpoints, default_subject = base.endpoints, base.subject
    elif name in STANDARD_BUCKETS:
        endpoints, default_subject = STANDARD_BUCKETS[name], Subject.ACCOUNT
    else:
        known = sorted({p.name for p in (*plan.policies, *current)} | set(STANDARD_BUCKETS))
        raise InvalidRequest(f"no rate bucket named {name!r} on plan {plan.name!r}; known: {', '.join(known)}", "name")
    return RatePolicy(name, endpoints, limit, window_seconds, subject or default_subject)


def merge_overrides(current: Sequence[RatePolicy], changes: Sequence[RatePolicy]) -> tuple[RatePolicy, ...]:
    """`current` with each of `changes` replacing the override of its name, or added after them."""
    changed = {policy.name: policy for policy in changes}
    merged = [changed.pop(policy.name, policy) for policy in current]
    merged.extend(changed.values())
    return tuple(merged)


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
